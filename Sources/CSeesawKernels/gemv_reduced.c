#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "seesaw_gemm.h"
#include "tile_store.h"

// The opt-in reduced-precision products. Both read the weights in their stored form, as the f32 kernels do:
// - int8 (llama.cpp's scheme): rows of x are quantized to int8 per block of 32 with one f32 scale (ggml's Q8_0),
//   and each 32-element block product is an integer dot product (VNNI vpdpbusd) scaled by d_w * d_x;
// - bf16: x and the dequantized weights are rounded to bf16 and multiplied pairwise with vdpbf16ps (f32 sums).

#define VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,f16c,fma")))
#define BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,f16c,fma")))

// Checked once (every linear layer asks).
int seesaw_int8_available(void) {
  static int cached = -1;
  if (cached < 0) {
    __builtin_cpu_init();
    cached = seesaw_gemm_available() && __builtin_cpu_supports("avx512vnni");
  }
  return cached;
}

int seesaw_bf16_available(void) {
  static int cached = -1;
  if (cached < 0) {
    __builtin_cpu_init();
    cached = seesaw_gemm_available() && __builtin_cpu_supports("avx512bf16");
  }
  return cached;
}

// f16 scales through vpbroadcastw + vcvtph2ps (_cvtsh_ss's vpinsrw would chain consecutive blocks).
__attribute__((target("avx512f,avx512vl,f16c"))) static inline float half_value(const uint8_t *p) {
  uint16_t h;
  memcpy(&h, p, 2);
  return _mm_cvtss_f32(_mm_cvtph_ps(_mm_set1_epi16((short)h)));
}

__attribute__((target("avx512f,f16c"))) static inline __m512 half_vector(const uint8_t *p) {
  uint16_t h;
  memcpy(&h, p, 2);
  return _mm512_cvtph_ps(_mm256_set1_epi16((short)h));
}

// ---- int8 -----------------------------------------------------------------------------------------------------

// x rows in int8, two blocks (64 values) per step: xq [m][pairs * 64], and per pair the 16-lane vectors the kernel
// multiplies with: dxv (lanes 0-7 the first block's scale, 8-15 the second's) and xsv (lane 0 / lane 8: the
// block's dx * Σq, for the weights' offset or min term; other lanes 0). An odd last block is padded with zeros.
VNNI void seesaw_quantize_rows_q8(const float *x, long m, long k, int8_t *xq, float *dxv, float *xsv) {
  long blocks = k / 32, pairs = (blocks + 1) / 2;
  for (long i = 0; i < m; i++) {
    int8_t *qi = xq + i * pairs * 64;
    float *di = dxv + i * pairs * 16, *si = xsv + i * pairs * 16;
    for (long b = 0; b < 2 * pairs; b++) {
      int8_t *q = qi + b * 32;
      float *dv = di + (b / 2) * 16 + (b % 2) * 8, *sv = si + (b / 2) * 16 + (b % 2) * 8;
      if (b >= blocks) {
        memset(q, 0, 32);
        for (int l = 0; l < 8; l++) dv[l] = sv[l] = 0;
        continue;
      }
      const float *v = x + i * k + b * 32;
      __m512 lo = _mm512_loadu_ps(v), hi = _mm512_loadu_ps(v + 16);
      float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(lo), _mm512_abs_ps(hi)));
      float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
      __m512 s = _mm512_set1_ps(id);
      // round to nearest (ties to even), as _mm512_cvtps_epi32 does; |q| ≤ 127
      __m512i qlo = _mm512_cvtps_epi32(_mm512_mul_ps(lo, s)), qhi = _mm512_cvtps_epi32(_mm512_mul_ps(hi, s));
      _mm_storeu_si128((__m128i *)q, _mm512_cvtsepi32_epi8(qlo));
      _mm_storeu_si128((__m128i *)(q + 16), _mm512_cvtsepi32_epi8(qhi));
      int sum = _mm512_reduce_add_epi32(_mm512_add_epi32(qlo, qhi));
      for (int l = 0; l < 8; l++) {
        dv[l] = d;
        sv[l] = 0;
      }
      sv[0] = d * (float)sum;
    }
  }
}

// f16 pair (a in lanes 0-7, b in lanes 8-15) as f32.
VNNI static inline __m512 halves2(const uint8_t *a, const uint8_t *b) {
  uint16_t ha, hb;
  memcpy(&ha, a, 2);
  memcpy(&hb, b, 2);
  return _mm512_cvtph_ps(_mm256_inserti128_si256(_mm256_castsi128_si256(_mm_set1_epi16((short)ha)),
                                                 _mm_set1_epi16((short)hb), 1));
}

// Two weight blocks as 64 unsigned bytes u, their scales Dw (8 lanes each) and the factor of the x-side block sum:
// Σ w x = d dx Σ u q + WM xs with WM = -8 d (q4_0: w = d (u - 8)), m (q4_1: w = d u + m), -128 d (q8_0: u = q + 128).
VNNI static inline __m512i pair_weights(int dtype, const uint8_t *b0, const uint8_t *b1, int single, __m512 *dw,
                                        __m512 *wm) {
  __m512i w;
  if (dtype == 3) {
    __m256i lo = _mm256_loadu_si256((const __m256i *)(b0 + 2));
    __m256i hi = single ? _mm256_setzero_si256() : _mm256_loadu_si256((const __m256i *)(b1 + 2));
    w = _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1), _mm512_set1_epi8((char)0x80));
  } else {
    long o = dtype == 4 ? 2 : 4;
    __m128i q0 = _mm_loadu_si128((const __m128i *)(b0 + o));
    __m128i q1 = single ? _mm_setzero_si128() : _mm_loadu_si128((const __m128i *)(b1 + o));
    __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_broadcastsi128_si256(q0)),
                                   _mm256_broadcastsi128_si256(q1), 1);
    z = _mm512_mask_srli_epi16(z, 0xFF00FF00u, z, 4);  // lanes 1 and 3 carry the high nibbles
    w = _mm512_and_si512(z, _mm512_set1_epi8(15));
  }
  const uint8_t *s1 = single ? b0 : b1;
  *dw = halves2(b0, s1);
  if (dtype == 5) {
    *wm = halves2(b0 + 2, s1 + 2);
  } else {
    *wm = _mm512_mul_ps(*dw, _mm512_set1_ps(dtype == 4 ? -8.0f : -128.0f));
  }
  return w;
}

VNNI __attribute__((always_inline)) static inline void int8_row(int dtype, const uint8_t *w, long block_bytes,
                                                                long blocks, const int8_t *xq, const float *dxv,
                                                                const float *xsv, long pairs, const int mr,
                                                                float *out, long ldy) {
  __m512 acc[4];
  for (int i = 0; i < mr; i++) acc[i] = _mm512_setzero_ps();
  for (long p = 0; p < pairs; p++) {
    __m512 dw, wm;
    const uint8_t *b0 = w + 2 * p * block_bytes;
    _mm_prefetch((const char *)b0 + 2048, _MM_HINT_T0);  // weights stream once: fetch 2 KiB ahead
    __m512i u = pair_weights(dtype, b0, b0 + block_bytes, 2 * p + 1 >= blocks, &dw, &wm);
    for (int i = 0; i < mr; i++) {
      __m512i q = _mm512_loadu_si512((const void *)(xq + i * pairs * 64 + p * 64));
      __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, q);
      __m512 scaled = _mm512_mul_ps(_mm512_cvtepi32_ps(dot), _mm512_loadu_ps(dxv + (i * pairs + p) * 16));
      acc[i] = _mm512_fmadd_ps(scaled, dw, acc[i]);
      acc[i] = _mm512_fmadd_ps(_mm512_loadu_ps(xsv + (i * pairs + p) * 16), wm, acc[i]);
    }
  }
  for (int i = 0; i < mr; i++) out[i * ldy] = _mm512_reduce_add_ps(acc[i]);
}

VNNI void seesaw_gemv_int8(int dtype, const void *w, long row_bytes, long rows, const int8_t *xq, const float *dxv,
                           const float *xsv, long k, long m, float *y, long ldy) {
  long block_bytes = dtype == 3 ? 34 : dtype == 4 ? 18 : 20, blocks = k / 32, pairs = (blocks + 1) / 2;
  for (long r = 0; r < rows; r++) {
    const uint8_t *wr = (const uint8_t *)w + r * row_bytes;
    for (long i = 0; i < m; i += 4) {
      const int8_t *q = xq + i * pairs * 64;
      const float *d = dxv + i * pairs * 16, *s = xsv + i * pairs * 16;
      float *out = y + i * ldy + r;
      switch (m - i) {
      case 1: int8_row(dtype, wr, block_bytes, blocks, q, d, s, pairs, 1, out, ldy); break;
      case 2: int8_row(dtype, wr, block_bytes, blocks, q, d, s, pairs, 2, out, ldy); break;
      case 3: int8_row(dtype, wr, block_bytes, blocks, q, d, s, pairs, 3, out, ldy); break;
      default: int8_row(dtype, wr, block_bytes, blocks, q, d, s, pairs, 4, out, ldy); break;
      }
    }
  }
}

// ---- bf16 -----------------------------------------------------------------------------------------------------

BF16 void seesaw_round_rows_bf16(const float *x, long count, uint16_t *out) {
  long t = 0;
  for (; t + 32 <= count; t += 32) {
    __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + t + 16), _mm512_loadu_ps(x + t));
    _mm512_storeu_si512((void *)(out + t), (__m512i)v);
  }
  for (; t < count; t++) {
    __m128bh v = _mm_cvtneps_pbh(_mm_set1_ps(x[t]));
    uint16_t h;
    memcpy(&h, &v, 2);
    out[t] = h;
  }
}

// The 32 weights of one block as f32 (exact dequantization), then rounded to bf16 (exact for bf16 weights).
BF16 static inline __m512bh block_bf16(int dtype, const uint8_t *p) {
  __m512 lo, hi;
  switch (dtype) {
  case 0:
    lo = _mm512_loadu_ps((const float *)p);
    hi = _mm512_loadu_ps((const float *)p + 16);
    break;
  case 1:
    lo = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
    hi = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p + 32)));
    break;
  case 2:
    return (__m512bh)_mm512_loadu_si512((const void *)p);
  case 3: {
    __m512 d = half_vector(p);
    lo = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p + 2)))));
    hi = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p + 18)))));
    break;
  }
  case 4: {
    __m512 d = half_vector(p);
    __m512i q = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(p + 2))), eight = _mm512_set1_epi32(8);
    lo = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_and_si512(q, _mm512_set1_epi32(15)), eight)));
    hi = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_srli_epi32(q, 4), eight)));
    break;
  }
  default: {
    __m512 d = half_vector(p), m = half_vector(p + 2);
    __m512i q = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(p + 4)));
    lo = _mm512_add_ps(_mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_and_si512(q, _mm512_set1_epi32(15)))), m);
    hi = _mm512_add_ps(_mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_srli_epi32(q, 4))), m);
    break;
  }
  }
  return _mm512_cvtne2ps_pbh(hi, lo);
}

#define BF16_ROWS(MR)                                                                                              \
  BF16 static void bf16_rows##MR(int dtype, const uint8_t *w, long block_bytes, const uint16_t *x, long k,         \
                                 float *out, long ldy) {                                                          \
    __m512 acc[MR];                                                                                             \
    for (int i = 0; i < MR; i++) acc[i] = _mm512_setzero_ps();                                                   \
    for (long b = 0; b < k / 32; b++) {                                                                         \
      _mm_prefetch((const char *)(w + b * block_bytes) + 2048, _MM_HINT_T0);                                      \
      __m512bh wb = block_bf16(dtype, w + b * block_bytes);                                                      \
      for (int i = 0; i < MR; i++)                                                                              \
        acc[i] = _mm512_dpbf16_ps(acc[i], (__m512bh)_mm512_loadu_si512((const void *)(x + i * k + b * 32)), wb); \
    }                                                                                                           \
    for (int i = 0; i < MR; i++) out[i * ldy] = _mm512_reduce_add_ps(acc[i]);                                    \
  }

BF16_ROWS(4)
BF16_ROWS(1)

void seesaw_gemv_bf16(int dtype, const void *w, long row_bytes, long rows, const uint16_t *x, long k, long m,
                      float *y, long ldy) {
  static const long block_bytes[6] = {128, 64, 64, 34, 18, 20};
  for (long r = 0; r < rows; r++) {
    const uint8_t *wr = (const uint8_t *)w + r * row_bytes;
    long i = 0;
    for (; i + 4 <= m; i += 4) bf16_rows4(dtype, wr, block_bytes[dtype], x + i * k, k, y + i * ldy + r, ldy);
    for (; i < m; i++) bf16_rows1(dtype, wr, block_bytes[dtype], x + i * k, k, y + i * ldy + r, ldy);
  }
}

// Packed bf16 panel: [k/2][32][2], the two k of a pair side by side for vdpbf16ps, from an f32 panel [k][32].
BF16 void seesaw_pack_panel_bf16(const float *panel, long k, uint16_t *out) {
  const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7,
                                              22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  for (long t = 0; t < k; t += 2) {
    for (int h = 0; h < 2; h++) {
      __m512 even = _mm512_loadu_ps(panel + t * SEESAW_PANEL + 16 * h);
      __m512 odd = t + 1 < k ? _mm512_loadu_ps(panel + (t + 1) * SEESAW_PANEL + 16 * h) : _mm512_setzero_ps();
      __m512i pair = (__m512i)_mm512_cvtne2ps_pbh(odd, even);  // [even 0..15 | odd 0..15]
      _mm512_storeu_si512((void *)(out + t * SEESAW_PANEL + 32 * h), _mm512_permutexvar_epi16(interleave, pair));
    }
  }
}

#define BF16_TILE(MR)                                                                                              \
  BF16 static void bf16_tile##MR(const uint16_t *a, long lda, const uint16_t *p, long k, float *c, long ldc,      \
                                 __mmask16 m0, __mmask16 m1, int accumulate) {                                   \
    __m512 acc[MR][2];                                                                                          \
    for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();                                    \
    for (long t = 0; t < k; t += 2) {                                                                           \
      __m512bh b0 = (__m512bh)_mm512_loadu_si512((const void *)(p + t * SEESAW_PANEL));                         \
      __m512bh b1 = (__m512bh)_mm512_loadu_si512((const void *)(p + t * SEESAW_PANEL + 32));                    \
      for (int i = 0; i < MR; i++) {                                                                            \
        uint32_t pair;                                                                                          \
        memcpy(&pair, a + i * lda + t, 4);                                                                      \
        __m512bh x = (__m512bh)_mm512_set1_epi32((int)pair);                                                    \
        acc[i][0] = _mm512_dpbf16_ps(acc[i][0], x, b0);                                                         \
        acc[i][1] = _mm512_dpbf16_ps(acc[i][1], x, b1);                                                         \
      }                                                                                                         \
    }                                                                                                           \
    for (int i = 0; i < MR; i++) store_tile_row(c + i * ldc, acc[i][0], acc[i][1], m0, m1, accumulate);         \
  }

BF16_TILE(8)
BF16_TILE(1)

void seesaw_gemm_panel_bf16(const uint16_t *a, long lda, const uint16_t *panel, long k, float *c, long ldc, long m,
                            long n, int accumulate) {
  __mmask16 m0, m1;
  tile_masks(n, &m0, &m1);
  long i = 0;
  for (; i + 8 <= m; i += 8) bf16_tile8(a + i * lda, lda, panel, k, c + i * ldc, ldc, m0, m1, accumulate);
  for (; i < m; i++) bf16_tile1(a + i * lda, lda, panel, k, c + i * ldc, ldc, m0, m1, accumulate);
}
