#include <cpuid.h>
#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "seesaw_gemm.h"
#include "seesaw_kernels.h"
#include "tile_store.h"

// AMX (Advanced Matrix Extensions, Sapphire Rapids and later): eight tile registers of 16 rows x 64 bytes and a tile
// multiply unit. TDPBF16PS adds a 16 x 32 bf16 tile times a 32 x 16 bf16 tile (pairs of K side by side, as the bf16
// panels [k/2][32][2] hold them) into a 16 x 16 f32 tile: 16384 FLOP per instruction, each product exact in f32 and
// summed in f32 (round to nearest even; denormal inputs and outputs flushed to zero).

#define AMX __attribute__((target("amx-tile,amx-bf16,amx-int8,avx512f,avx512bw,avx512vl,avx512bf16")))

#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

int seesaw_amx_available(void) {
  static int cached = -1;
  int value = __atomic_load_n(&cached, __ATOMIC_RELAXED);
  if (value < 0) {
    unsigned a, b, c, d;
    // CPUID.(7, 0):EDX bit 22 AMX-BF16, 24 AMX-TILE, 25 AMX-INT8; Linux hands out the 8 KiB of tile state only to
    // processes that ask for it (arch_prctl, once per process). SEESAW_AMX=0 turns AMX off (A/B runs).
    const char *env = getenv("SEESAW_AMX");
    const int off = env && strcmp(env, "0") == 0;
    value = !off && seesaw_bf16_available() && __get_cpuid_count(7, 0, &a, &b, &c, &d) && (d >> 22 & 1) &&
            (d >> 24 & 1) && (d >> 25 & 1) && syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
    __atomic_store_n(&cached, value, __ATOMIC_RELAXED);
  }
  return value;
}

// Palette 1 with all eight tiles at their full 16 rows x 64 bytes; loaded at every kernel call (it also zeroes the
// tiles), released at its end, so that no other code on the thread meets a configuration it did not make.
typedef struct {
  uint8_t palette, start_row, reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
} tile_config;

AMX static void configure_tiles(void) {
  tile_config config;
  memset(&config, 0, sizeof config);
  config.palette = 1;
  for (int t = 0; t < 8; t++) {
    config.colsb[t] = 64;
    config.rows[t] = 16;
  }
  _tile_loadconfig(&config);
}

// ---- bf16 panel products ----------------------------------------------------------------------------------------

// hi + mid + lo = v in every lane: hi and mid truncated to bf16, lo the at most 8 significant bits left (exact).
AMX static inline void split3(__m512 v, __m512 *hi, __m512 *mid, __m512 *lo) {
  const __m512i top = _mm512_set1_epi32((int)0xffff0000u);
  *hi = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(v), top));  // the first 8 bits
  __m512 r = _mm512_sub_ps(v, *hi);                                           // exact: the other 16 bits
  *mid = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(r), top));
  *lo = _mm512_sub_ps(r, *mid);  // exact
}

// The upper halves of 16 f32 lanes whose lower halves are zero: exact bf16s.
AMX static inline __m256i upper_halves(__m512 v) {
  return _mm512_cvtepi32_epi16(_mm512_srli_epi32(_mm512_castps_si512(v), 16));
}

AMX void seesaw_amx_tiles_bf16(const float *x, long k, long rows, long row0, long count, int nparts,
                               uint16_t *const *parts) {
  for (long r = row0; r < row0 + count; r++) {
    const float *xr = x + r * k;
    const long offset = (r / 16) * 16 * k + (r % 16) * 32;  // tile (r / 16, s) at + s * 512
    for (long s = 0; s < k / 32; s++) {
      const long at = offset + s * 512;
      if (r >= rows) {
        for (int p = 0; p < nparts; p++) memset(parts[p] + at, 0, 64);
        continue;
      }
      __m512 v0 = _mm512_loadu_ps(xr + 32 * s), v1 = _mm512_loadu_ps(xr + 32 * s + 16);
      if (nparts == 1) {
        _mm512_storeu_si512((void *)(parts[0] + at), (__m512i)_mm512_cvtne2ps_pbh(v1, v0));
        continue;
      }
      __m512 h0, m0, l0, h1, m1, l1;
      split3(v0, &h0, &m0, &l0);
      split3(v1, &h1, &m1, &l1);
      _mm256_storeu_si256((__m256i *)(parts[0] + at), upper_halves(h0));
      _mm256_storeu_si256((__m256i *)(parts[0] + at + 16), upper_halves(h1));
      _mm256_storeu_si256((__m256i *)(parts[1] + at), upper_halves(m0));
      _mm256_storeu_si256((__m256i *)(parts[1] + at + 16), upper_halves(m1));
      _mm256_storeu_si256((__m256i *)(parts[2] + at), upper_halves(l0));
      _mm256_storeu_si256((__m256i *)(parts[2] + at + 16), upper_halves(l1));
    }
  }
}

// r[j] holds 32-bit words q = 0..<16 of row j; afterwards r[q] holds word q of rows j = 0..<16 (a 16 x 16 transpose:
// pairs of words, then pairs of pairs within 128-bit lanes, then lanes).
AMX static inline void transpose16x16(__m512i r[16]) {
  __m512i t[16], u[16];
  for (int j = 0; j < 16; j += 2) {
    t[j] = _mm512_unpacklo_epi32(r[j], r[j + 1]);      // lane L: rows j, j+1 at words 4L, 4L+1
    t[j + 1] = _mm512_unpackhi_epi32(r[j], r[j + 1]);  // words 4L+2, 4L+3
  }
  for (int g = 0; g < 16; g += 4) {  // rows g..<g+4 at word 4L + c in u[g + c], lane L
    u[g] = _mm512_unpacklo_epi64(t[g], t[g + 2]);
    u[g + 1] = _mm512_unpackhi_epi64(t[g], t[g + 2]);
    u[g + 2] = _mm512_unpacklo_epi64(t[g + 1], t[g + 3]);
    u[g + 3] = _mm512_unpackhi_epi64(t[g + 1], t[g + 3]);
  }
  for (int c = 0; c < 4; c++) {
    __m512i even = _mm512_shuffle_i32x4(u[c], u[4 + c], 0x88);      // lanes 0, 2 of rows 0..<4, then of 4..<8
    __m512i odd = _mm512_shuffle_i32x4(u[c], u[4 + c], 0xdd);       // lanes 1, 3
    __m512i even2 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0x88);  // the same of rows 8..<16
    __m512i odd2 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0xdd);
    r[c] = _mm512_shuffle_i32x4(even, even2, 0x88);       // word c: lane 0 of every group
    r[8 + c] = _mm512_shuffle_i32x4(even, even2, 0xdd);   // word 8 + c: lane 2
    r[4 + c] = _mm512_shuffle_i32x4(odd, odd2, 0x88);     // word 4 + c: lane 1
    r[12 + c] = _mm512_shuffle_i32x4(odd, odd2, 0xdd);    // word 12 + c: lane 3
  }
}

AMX void seesaw_pack_panel_bf16_rows(const void *w, long row_bytes, long n, long k, uint16_t *out) {
  // Pair p of row j is the 32-bit word at byte j * row_bytes + 4p; the panel's pair-row p is those words, j < 32:
  // 16 x 16 blocks of words transposed in registers.
  const long pairs = k / 2;
  for (long p0 = 0; p0 < pairs; p0 += 16) {
    const long count = pairs - p0 < 16 ? pairs - p0 : 16;
    const __mmask16 mask = (__mmask16)((1u << count) - 1);
    for (int half = 0; half < 2; half++) {
      __m512i r[16];
      for (int j = 0; j < 16; j++) {
        const long row = 16 * half + j;
        r[j] = row < n ? _mm512_maskz_loadu_epi32(mask, (const uint8_t *)w + row * row_bytes + 4 * p0)
                       : _mm512_setzero_si512();
      }
      transpose16x16(r);
      for (long q = 0; q < count; q++) _mm512_storeu_si512((void *)(out + 64 * (p0 + q) + 32 * half), r[q]);
    }
  }
}

AMX void seesaw_gemm_panel_amx(const uint16_t *const *parts, int nparts, long lda, const uint16_t *panel, long k,
                               float *c, long ldc, long m, long n, int accumulate) {
  configure_tiles();
  __mmask16 m0, m1;
  tile_masks(n, &m0, &m1);
  float sums[32 * 32] __attribute__((aligned(64)));  // [32][32], the four C tiles
  for (long i = 0; i < m; i += 32) {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    for (long t = 0; t < k; t += 32) {
      const uint16_t *b = panel + t * SEESAW_PANEL;  // pair-rows t/2 ..< t/2 + 16
      _tile_loadd(6, b, 4 * SEESAW_PANEL);           // outputs 0..<16
      _tile_loadd(7, b + 32, 4 * SEESAW_PANEL);      // outputs 16..<32
      for (int p = 0; p < nparts; p++) {
        const uint16_t *a = parts[p] + i * lda + 16 * t;  // tile (i / 16, t / 32)
        _tile_loadd(4, a, 64);                             // rows i ..< i + 16
        _tile_loadd(5, a + 16 * lda, 64);                  // rows i + 16 ..< i + 32
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
      }
    }
    _tile_stored(0, sums, 128);
    _tile_stored(1, sums + 16, 128);
    _tile_stored(2, sums + 512, 128);
    _tile_stored(3, sums + 528, 128);
    const long rows = m - i < 32 ? m - i : 32;
    for (long r = 0; r < rows; r++) {
      store_tile_row(c + (i + r) * ldc, _mm512_load_ps(sums + 32 * r), _mm512_load_ps(sums + 32 * r + 16), m0, m1,
                     accumulate);
    }
  }
  _tile_release();
}

// ---- probes -----------------------------------------------------------------------------------------------------

// Six independent C tiles against one A and one B tile: the multiply unit's throughput, not its latency.
AMX static double amx_probe(long iterations, int int8) {
  configure_tiles();
  static const uint8_t zeros[1024] __attribute__((aligned(64)));
  _tile_loadd(6, zeros, 64);
  _tile_loadd(7, zeros, 64);
  // Tile numbers are immediates: the six C tiles are spelled out.
#define SIX_TILES(OP) OP(0) OP(1) OP(2) OP(3) OP(4) OP(5)
#define ZERO(t) _tile_zero(t);
#define DPBUSD(t) _tile_dpbusd(t, 6, 7);
#define DPBF16PS(t) _tile_dpbf16ps(t, 6, 7);
  SIX_TILES(ZERO)
  for (long r = 0; r < iterations; r++) {
    if (int8) {
      SIX_TILES(DPBUSD)
    } else {
      SIX_TILES(DPBF16PS)
    }
  }
  float sink[256] __attribute__((aligned(64)));
  _tile_stored(0, sink, 64);
  volatile float keep = sink[0];
  (void)keep;
  _tile_release();
  // 16 x 16 outputs, each a sum of 32 bf16 or 64 int8 products: a multiply and an add apiece.
  return (double)iterations * 6.0 * 16 * 16 * (int8 ? 64 : 32) * 2;
}

double seesaw_amx_bf16_probe(long iterations) {
  if (!seesaw_amx_available()) return -1;
  return amx_probe(iterations / 64, 0);
}

double seesaw_amx_int8_probe(long iterations) {
  if (!seesaw_amx_available()) return -1;
  return amx_probe(iterations / 64, 1);
}
