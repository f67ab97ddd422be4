#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "f16_table.h"
#include "kquants.h"
#include "seesaw_gemm.h"
#include "avx2_blocks.h"
#include "x16_group.h"

// The opt-in int8 products (llama.cpp's scheme): rows of x are quantized to int8 per block of 32 with one f32 scale
// (ggml's Q8_0), and each 32-element block product is an integer dot product (VNNI vpdpbusd) scaled by d_w * d_x.
//
// x is quantized into panels of SEESAW_INT8_PANEL rows, block-major: the rows of one block sit 32 bytes apart, so
// the kernel reaches all of them from one pointer at constant displacements, and each group of weights loaded into
// registers serves 16 rows of x.
//
// The weights are read from a copy interleaved by 16 rows (llama.cpp's repacked Q4_0x8 idea, at AVX-512 width):
// per group of 16 rows and block of 32 columns, vector j holds bytes 4j..4j+3 of each row's quants in its 16
// 32-bit lanes. One vpdpbusd then advances 16 rows by 4 columns against 4 bytes of x broadcast from memory, the
// f16 scales of 16 rows convert in one instruction, and each row's sum stays in its own lane: no horizontal sums,
// no per-block scale broadcasts. With rows in their file layout the same product costs ~10 vector instructions per
// block and row (TinyLlama Q4_0 decode was compute-bound at ~8 GB/s per thread); interleaved it costs ~1.6.

#define VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,f16c,fma")))

// Checked once (every linear layer asks).
int seesaw_vnni_available(void) {
  static int cached = -1;
  if (cached < 0) {
    __builtin_cpu_init();
    cached = seesaw_gemm_available() && __builtin_cpu_supports("avx512vnni");
  }
  return cached;
}

int seesaw_int8_available(void) { return seesaw_vnni_available() || seesaw_has_avx2(); }

static long block_bytes(int dtype) { return dtype == 3 ? 34 : dtype == 4 ? 18 : 20; }

long seesaw_x16_quant_bytes(int dtype) { return x16_quant_bytes(dtype); }

long seesaw_x16_scale_halves(int dtype) { return x16_scale_halves(dtype); }

// One 32-element sub-block j of a Q4_K super-block as a Q4_1 block's quants (how seesaw_repack_x16 writes dtype 6):
// the 16 bytes that hold elements t (low nibble) and t + 16 (high), and the row's scales for lane r of the group in
// the super-block's record (x16_q4_K_record; x16_block_scales multiplies them out): d and dmin as in the file, sc_j
// and m_j as bytes.
static void q4_K_as_q4_1(const uint8_t *p, int j, uint8_t bytes[16], uint16_t *record, long r) {
  uint8_t sc[8], mn[8];
  q4_K_scales(p + 4, sc, mn);
  memcpy(record + r, p, 2);
  memcpy(record + 16 + r, p + 2, 2);
  uint8_t *scm = (uint8_t *)(record + 32) + 32 * j;
  scm[r] = sc[j];
  scm[16 + r] = mn[j];
  const uint8_t *q = p + 16 + 32 * (j / 2);  // sub-block 2g: low nibbles of these 32 bytes, 2g + 1: high ones
  int shift = 4 * (j % 2);
  for (int t = 0; t < 16; t++) bytes[t] = (uint8_t)(((q[t] >> shift) & 15) | (((q[t + 16] >> shift) & 15) << 4));
}

// A q6_K super-block's 256 values q - 32 in element order (kquants.h with AVX-512, avx2_blocks.h without).
KQ_AVX512 static void q6_K_values_avx512(const uint8_t *p, int8_t q[256]) {
  float ds[16];
  q6_K_prepare(p, ds, q);
}

AVX2 static void q6_K_values_avx2(const uint8_t *p, int8_t q[256]) {
  kq_state s;
  q6_K_prepare_avx2(p, &s);
  memcpy(q, s.q, 256);
}

// Groups group0..<group0+groups of a q6_K matrix's copy (dtype 7 of seesaw_repack_x16): each super-block of a row is
// unpacked once, its 8 pieces of 32 written as u = q + 32 in the 4 + 2 bit planes x16_q6_K_weights reads, and its d
// and 16-element scales into the super-block's record (x16_q6_K_record).
static void repack_q6_K_x16(const uint8_t *w, long row_stride, long rows, long k, long group0, long groups,
                            uint8_t *quants, uint16_t *scales) {
  void (*values)(const uint8_t *, int8_t *) = seesaw_gemm_available() ? q6_K_values_avx512 : q6_K_values_avx2;
  long blocks = k / 32;
  for (long g = group0; g < group0 + groups; g++) {
    for (long r = 0; r < 16; r++) {
      long row = g * 16 + r;
      for (long sb = 0; sb < k / 256; sb++) {
        int8_t q[256];
        const uint8_t *p = w + row * row_stride + sb * 210;
        uint16_t *record = (uint16_t *)x16_q6_K_record(scales + g * blocks * 18, sb * 8);
        // padding rows: d 0 and quants 0, so they add nothing
        if (row < rows) values(p, q);
        else memset(q, -32, 256);
        if (row < rows) memcpy(record + r, p + 208, 2);
        else record[r] = 0;
        for (long j = 0; j < 8; j++) {
          long b = sb * 8 + j;
          uint8_t *qd = quants + (g * blocks + b) * 384;
          int8_t *sc = (int8_t *)(record + 16) + 32 * j;
          sc[r] = row < rows ? (int8_t)p[192 + 2 * j] : 0;
          sc[16 + r] = row < rows ? (int8_t)p[192 + 2 * j + 1] : 0;
          const int8_t *qj = q + 32 * j;
          for (long t = 0; t < 4; t++) {
            for (long v = 0; v < 4; v++)
              qd[64 * v + 4 * r + t] = (uint8_t)(((qj[4 * v + t] + 32) & 15) | (((qj[16 + 4 * v + t] + 32) & 15) << 4));
            for (long h = 0; h < 2; h++) {
              uint8_t top = 0;
              for (long i = 0; i < 4; i++) top |= (uint8_t)((((qj[16 * h + 4 * i + t] + 32) >> 4) & 3) << (2 * i));
              qd[256 + 64 * h + 4 * r + t] = top;
            }
          }
        }
      }
    }
  }
}

void seesaw_repack_x16(int dtype, const void *w, long row_stride, long rows, long k, long group0, long groups,
                       uint8_t *quants, uint16_t *scales) {
  if (dtype == 7) return repack_q6_K_x16((const uint8_t *)w, row_stride, rows, k, group0, groups, quants, scales);
  long blocks = k / 32, qb = x16_quant_bytes(dtype), sb = x16_scale_halves(dtype);
  long bb = block_bytes(dtype), qoff = dtype == 5 ? 4 : 2, nq = dtype == 3 ? 32 : 16;
  uint8_t flip = dtype == 3 ? 0x80 : 0;  // q8_0: signed quants stored as unsigned u = q + 128
  for (long g = group0; g < group0 + groups; g++) {
    for (long b = 0; b < blocks; b++) {
      uint8_t *qd = quants + (g * blocks + b) * qb;
      uint16_t *sd = scales + (g * blocks + b) * sb;
      if (dtype == 6) sd = (uint16_t *)x16_q4_K_record(scales + g * blocks * sb, b);
      for (long r = 0; r < 16; r++) {
        long row = g * 16 + r;
        if (row >= rows) {  // padding rows: scale 0, so they add nothing
          sd[r] = 0;
          if (dtype >= 5) sd[16 + r] = 0;
          if (dtype == 6) {  // sc and m of sub-block b % 8
            uint8_t *scm = (uint8_t *)(sd + 32) + 32 * (b % 8);
            scm[r] = scm[16 + r] = 0;
          }
          for (long j = 0; j < nq / 4; j++) memset(qd + j * 64 + r * 4, 0, 4);
          continue;
        }
        const uint8_t *p = (const uint8_t *)w + row * row_stride, *src;  // src: the block's quant bytes
        uint8_t q4_K_bytes[16];
        if (dtype == 6) {  // the super-block holding block b, whose sub-block b % 8 it is
          q4_K_as_q4_1(p + b / 8 * 144, (int)(b % 8), q4_K_bytes, sd, r);
          src = q4_K_bytes;
        } else {
          p += b * bb;
          memcpy(sd + r, p, 2);
          if (dtype == 5) memcpy(sd + 16 + r, p + 2, 2);
          src = p + qoff;
        }
        for (long j = 0; j < nq / 4; j++) {
          for (long t = 0; t < 4; t++) qd[j * 64 + r * 4 + t] = src[4 * j + t] ^ flip;
        }
      }
    }
  }
}

VNNI static void quantize_panels_vnni(const float *x, long m, long k, long row0, long rows, int8_t *xq,
                                     seesaw_q8_aux *aux) {
  const long P = SEESAW_INT8_PANEL, blocks = k / 32;
  for (long i = row0; i < row0 + rows; i++) {
    long p = i / P, r = i % P, height = m - P * p < P ? m - P * p : P;
    for (long b = 0; b < blocks; b++) {
      const float *v = x + i * k + b * 32;
      __m512 lo = _mm512_loadu_ps(v), hi = _mm512_loadu_ps(v + 16);
      float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(lo), _mm512_abs_ps(hi)));
      float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
      __m512 s = _mm512_set1_ps(id);
      // round to nearest (ties to even), as _mm512_cvtps_epi32 does; |q| ≤ 127
      __m512i qlo = _mm512_cvtps_epi32(_mm512_mul_ps(lo, s)), qhi = _mm512_cvtps_epi32(_mm512_mul_ps(hi, s));
      long at = P * p * blocks + b * height + r;  // (panel, block, row)
      _mm_storeu_si128((__m128i *)(xq + at * 32), _mm512_cvtsepi32_epi8(qlo));
      _mm_storeu_si128((__m128i *)(xq + at * 32 + 16), _mm512_cvtsepi32_epi8(qhi));
      aux[at] = q8_aux_record(d, _mm512_reduce_add_epi32(qlo), _mm512_reduce_add_epi32(qhi));
    }
  }
}

// One group of 16 weight rows against the mr rows of an x panel; writes `valid` outputs of each row of y.
// Per row and block: a chain of 8 vpdpbusd starting from -offset · Σq (u = q + offset, so the chain ends at
// Σ u·q_x - offset · Σq_x = Σ q·q_x), one conversion, one scale by d_x and one FMA by d_w. The chains of all mr rows
// advance together, one step of each before the next step of any, so that mr independent vpdpbusd separate two
// dependent ones (latency 5, two ports). Rows 4 at a time did as well as built here, but 25% worse (q4_1, q8_0)
// when compiled with -march=native's scheduling. q6_K runs two chains of 4 per row and block, one per half, each
// converted and scaled by its half's d · sc before one FMA by d_x.
VNNI __attribute__((always_inline)) static inline void group_rows(int dtype, const uint8_t *q, const uint16_t *s,
                                                                  long blocks, const int8_t *xp,
                                                                  const seesaw_q8_aux *ap, const int mr, float *y,
                                                                  long ldy, long valid) {
  const long qb = x16_quant_bytes(dtype), sb = x16_scale_halves(dtype);
  const __m512i low = _mm512_set1_epi8(15);
  __m512 acc[SEESAW_INT8_PANEL];  // [mr] × 16 outputs
#pragma clang loop unroll(full)
  for (int i = 0; i < mr; i++) acc[i] = _mm512_setzero_ps();
  for (long b = 0; b < blocks; b++) {
    const uint8_t *qp = q + b * qb;
    // The copy streams once: every line of the quants is fetched 4 KiB ahead, the scales as many blocks ahead.
    for (long l = 0; l < qb; l += 64) _mm_prefetch((const char *)qp + 4096 + l, _MM_HINT_T0);
    __m512i w[8];
    if (dtype == 3) {
      for (int j = 0; j < 8; j++) w[j] = _mm512_loadu_si512((const void *)(qp + 64 * j));
    } else if (dtype == 7) {
      x16_q6_K_weights(qp, w);
    } else {
      for (int j = 0; j < 4; j++) {
        __m512i v = _mm512_loadu_si512((const void *)(qp + 64 * j));
        w[j] = _mm512_and_si512(v, low);
        w[4 + j] = _mm512_and_si512(_mm512_srli_epi16(v, 4), low);
      }
    }
    const uint16_t *sp = s + b * sb;
    _mm_prefetch((const char *)(sp + 4096 / qb * sb), _MM_HINT_T0);
    __m512 dw, mw;
    x16_block_scales(dtype, s, b, &dw, &mw);
    const int32_t *xb = (const int32_t *)(xp + b * mr * 32);  // [mr][8] quads of x
    const seesaw_q8_aux *ab = ap + b * mr;
    if (dtype == 7) {
      // d · sc of each half for the 16 rows (exact in f32: 11 by 8 significant bits)
      const int8_t *sc = x16_q6_K_scales(s, b);
      __m512 lo_w = _mm512_mul_ps(dw, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)sc))));
      __m512 hi_w =
          _mm512_mul_ps(dw, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(sc + 16)))));
      __m512i lo[SEESAW_INT8_PANEL], hi[SEESAW_INT8_PANEL];
#pragma clang loop unroll(full)
      for (int i = 0; i < mr; i++) {
        lo[i] = _mm512_set1_epi32(ab[i].minus128lo / 4);  // u = q + 32: -32 Σ q_x of each half
        hi[i] = _mm512_set1_epi32(ab[i].minus128hi / 4);
      }
#pragma clang loop unroll(full)
      for (int j = 0; j < 4; j++) {
#pragma clang loop unroll(full)
        for (int i = 0; i < mr; i++) {
          lo[i] = _mm512_dpbusd_epi32(lo[i], w[j], _mm512_set1_epi32(xb[i * 8 + j]));
          hi[i] = _mm512_dpbusd_epi32(hi[i], w[4 + j], _mm512_set1_epi32(xb[i * 8 + 4 + j]));
        }
      }
#pragma clang loop unroll(full)
      for (int i = 0; i < mr; i++) {
        __m512 sum = _mm512_fmadd_ps(_mm512_cvtepi32_ps(lo[i]), lo_w,
                                     _mm512_mul_ps(_mm512_cvtepi32_ps(hi[i]), hi_w));
        acc[i] = _mm512_fmadd_ps(sum, _mm512_set1_ps(ab[i].d), acc[i]);
      }
      continue;
    }
    __m512i dot[SEESAW_INT8_PANEL];
#pragma clang loop unroll(full)
    for (int i = 0; i < mr; i++)
      dot[i] = dtype == 3   ? _mm512_set1_epi32(ab[i].minus128sum)
               : dtype == 4 ? _mm512_set1_epi32(ab[i].minus8sum)
                            : _mm512_setzero_si512();
#pragma clang loop unroll(full)
    for (int j = 0; j < 8; j++) {
#pragma clang loop unroll(full)
      for (int i = 0; i < mr; i++) dot[i] = _mm512_dpbusd_epi32(dot[i], w[j], _mm512_set1_epi32(xb[i * 8 + j]));
    }
#pragma clang loop unroll(full)
    for (int i = 0; i < mr; i++) {
      acc[i] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(dot[i]), _mm512_set1_ps(ab[i].d)), dw, acc[i]);
      if (dtype == 5 || dtype == 6) acc[i] = _mm512_fmadd_ps(mw, _mm512_set1_ps(ab[i].dsum), acc[i]);  // m · Σx
    }
  }
  __mmask16 mask = valid >= 16 ? 0xFFFF : (__mmask16)((1u << valid) - 1);
#pragma clang loop unroll(full)
  for (int i = 0; i < mr; i++) _mm512_mask_storeu_ps(y + i * ldy, mask, acc[i]);
}

#define GROUP_CASE(DT, MR)                                                                                         \
  case MR: group_rows(DT, q, s, blocks, xp, ap, MR, out, ldy, valid); break;

// Every panel height gets its own fully unrolled body, so the accumulators stay in registers.
#define GROUPS(NAME, DT)                                                                                           \
  VNNI static void groups_##NAME(const uint8_t *quants, const uint16_t *scales, long rows, long group0,            \
                                 long groups, const int8_t *xp, const seesaw_q8_aux *ap, long k, long mr,          \
                                 float *y, long ldy) {                                                             \
    long blocks = k / 32;                                                                                          \
    for (long g = group0; g < group0 + groups; g++) {                                                              \
      x16_group at = x16_group_at(DT, quants, scales, rows, k, g);                                                 \
      const uint8_t *q = at.quants;                                                                                \
      const uint16_t *s = at.scales;                                                                               \
      long valid = at.valid;                                                                                       \
      float *out = y + g * 16;                                                                                     \
      switch (mr) {                                                                                                \
        GROUP_CASE(DT, 1) GROUP_CASE(DT, 2) GROUP_CASE(DT, 3) GROUP_CASE(DT, 4) GROUP_CASE(DT, 5)                  \
        GROUP_CASE(DT, 6) GROUP_CASE(DT, 7) GROUP_CASE(DT, 8) GROUP_CASE(DT, 9) GROUP_CASE(DT, 10)                 \
        GROUP_CASE(DT, 11) GROUP_CASE(DT, 12) GROUP_CASE(DT, 13) GROUP_CASE(DT, 14) GROUP_CASE(DT, 15)             \
        default: group_rows(DT, q, s, blocks, xp, ap, SEESAW_INT8_PANEL, out, ldy, valid); break;                  \
      }                                                                                                            \
    }                                                                                                              \
  }

GROUPS(q8_0, 3)
GROUPS(q4_0, 4)
GROUPS(q4_1, 5)
GROUPS(q4_K, 6)
GROUPS(q6_K, 7)

void seesaw_quantize_panels_q8(const float *x, long m, long k, long row0, long rows, int8_t *xq,
                               seesaw_q8_aux *aux) {
  if (seesaw_vnni_available()) return quantize_panels_vnni(x, m, k, row0, rows, xq, aux);
  seesaw_quantize_panels_q8_avx2(x, m, k, row0, rows, xq, aux);
}

void seesaw_gemv_int8_x16(int dtype, const uint8_t *quants, const uint16_t *scales, long rows, long group0,
                          long groups, const int8_t *xq, const seesaw_q8_aux *aux, long k, long m, float *y,
                          long ldy) {
  if (!seesaw_vnni_available())
    return seesaw_gemv_int8_x16_avx2(dtype, quants, scales, rows, group0, groups, xq, aux, k, m, y, ldy);
  for (long i = 0; i < m; i += SEESAW_INT8_PANEL) {  // one panel of x per pass over the weights
    long mr = m - i < SEESAW_INT8_PANEL ? m - i : SEESAW_INT8_PANEL;
    const int8_t *xp = xq + i * k;
    const seesaw_q8_aux *ap = aux + i * (k / 32);
    float *yi = y + i * ldy;
    switch (dtype) {
    case 3: groups_q8_0(quants, scales, rows, group0, groups, xp, ap, k, mr, yi, ldy); break;
    case 4: groups_q4_0(quants, scales, rows, group0, groups, xp, ap, k, mr, yi, ldy); break;
    case 6: groups_q4_K(quants, scales, rows, group0, groups, xp, ap, k, mr, yi, ldy); break;
    case 7: groups_q6_K(quants, scales, rows, group0, groups, xp, ap, k, mr, yi, ldy); break;
    default: groups_q4_1(quants, scales, rows, group0, groups, xp, ap, k, mr, yi, ldy); break;
    }
  }
}
