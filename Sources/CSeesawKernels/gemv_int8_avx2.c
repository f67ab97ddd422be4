#include <immintrin.h>
#include <stdint.h>

#include "avx2_blocks.h"
#include "seesaw_gemm.h"
#include "x16_group.h"

// The int8 products of gemv_int8.c on AVX2 CPUs without VNNI (as llama.cpp's AVX2 kernels do them): vpmaddubsw
// multiplies unsigned weight bytes by signed bytes of x and adds pairs into 16-bit lanes, vpmaddwd adds those pairs
// into 32-bit lanes. Same copy, same quantized x, same integer dot per block and row, same f32 steps after it: the
// results are bit for bit those of the VNNI kernel.
//
// A 64-byte vector of the copy holds 16 rows; a 256-bit register takes the 8 rows of one half of it. Each half of a
// group makes its own pass over the blocks, a few rows of x at a time (their accumulators and the half's 8 weight
// registers fit the 16 registers); the other passes read the group's weights from L1 or L2.
//
// vpmaddubsw saturates its 16-bit pair sums: 4-bit weights (≤ 15) against |x| ≤ 127 give pairs of at most 3810,
// so a block's 8 products add up in 16 bits (≤ 30480) and take one vpmaddwd. Q8_0 (stored as q + 128) and Q6_K
// (as q + 32) would saturate: they multiply |q| by x with q's sign (vpsignb), pairs ≤ 2 · 128 · 127 = 32512 (Q8_0:
// to 32 bits after every product) or ≤ 2 · 32 · 127 (Q6_K: its 4 products of a half add up in 16 bits).

/// Rows of x per pass of a half group.
enum { AVX2_INT8_MR = 4 };

/// The 8 rows' weight scale dw and minimum mw of half `h` of block b of a group (`s`: its scales), as
/// x16_block_scales computes them for 16.
AVX2 static inline void half_scales(int dtype, const uint16_t *s, long b, int h, __m256 *dw, __m256 *mw) {
  const uint16_t *sp = x16_block_record(dtype, s, b);
  *dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(sp + 8 * h)));
  *mw = *dw;
  if (dtype == 5) *mw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(sp + 16 + 8 * h)));
  if (dtype == 6) {
    __m256 dmin = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(sp + 16 + 8 * h)));
    const uint8_t *sc = (const uint8_t *)(sp + 32) + 32 * (b % 8) + 8 * h, *m = sc + 16;
    __m256 scf = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)sc)));
    __m256 mf = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)m)));
    *dw = _mm256_mul_ps(*dw, scf);
    *mw = _mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(dmin, mf));
  }
}

/// Σ over 4 quads of x (from quad j0 of xb) of w[j] · x in 16-bit pair sums; w holds |q| and the sign comes from
/// sg (vpsignb), or w holds unsigned 4-bit weights and sg is null.
AVX2 static inline __m256i pair_sums4(const __m256i *w, const __m256i *sg, const int32_t *xb, int j0) {
  __m256i s = _mm256_setzero_si256();
#pragma clang loop unroll(full)
  for (int j = 0; j < 4; j++) {
    __m256i x = _mm256_set1_epi32(xb[j0 + j]);
    if (sg) x = _mm256_sign_epi8(x, sg[j]);
    s = _mm256_add_epi16(s, _mm256_maddubs_epi16(w[j], x));
  }
  return s;
}

/// Half h (rows 8h..8h+7) of one group of 16 weight rows against rows i0..<i0+MR of an x panel of `height` rows;
/// writes `valid` outputs of each of those rows of y (y points at the half's first column).
AVX2 __attribute__((always_inline)) static inline void half_rows(int dtype, const uint8_t *q, const uint16_t *s,
                                                                 long blocks, const int8_t *xp,
                                                                 const seesaw_q8_aux *ap, long height, long i0,
                                                                 const int MR, int h, float *y, long ldy,
                                                                 long valid) {
  const long qb = x16_quant_bytes(dtype), sb = x16_scale_halves(dtype);
  const __m256i low = _mm256_set1_epi8(15), flip = _mm256_set1_epi8((char)0x80), ones = _mm256_set1_epi16(1);
  __m256 acc[AVX2_INT8_MR];
#pragma clang loop unroll(full)
  for (int i = 0; i < MR; i++) acc[i] = _mm256_setzero_ps();
  for (long b = 0; b < blocks; b++) {
    const uint8_t *qp = q + b * qb;
    for (long l = 0; l < qb; l += 64) _mm_prefetch((const char *)qp + 4096 + l, _MM_HINT_T0);
    const uint16_t *sp = s + b * sb;
    _mm_prefetch((const char *)(sp + 4096 / qb * sb), _MM_HINT_T0);
    __m256 dw, mw;
    half_scales(dtype, s, b, h, &dw, &mw);
    const int32_t *xb = (const int32_t *)(xp + (b * height + i0) * 32);  // [MR][8] quads of x
    const seesaw_q8_aux *ab = ap + b * height + i0;
    __m256i w[8], sg[8];  // this half's weight vectors: 4-bit weights, or |q| and q
    if (dtype == 3) {
#pragma clang loop unroll(full)
      for (int j = 0; j < 8; j++) {
        sg[j] = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(qp + 64 * j + 32 * h)), flip);
        w[j] = _mm256_abs_epi8(sg[j]);
      }
    } else if (dtype == 7) {
      // u = q + 32 from the bit planes (x16_q6_K_weights): low nibbles, then the top 2 bits to bits 4 and 5
      const __m256i top = _mm256_set1_epi8(0x30), offset = _mm256_set1_epi8(32);
#pragma clang loop unroll(full)
      for (int j = 0; j < 4; j++) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(qp + 64 * j + 32 * h));
        w[j] = _mm256_and_si256(v, low);
        w[4 + j] = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
      }
#pragma clang loop unroll(full)
      for (int p = 0; p < 2; p++) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(qp + 256 + 64 * p + 32 * h));
        w[4 * p + 0] = _mm256_or_si256(w[4 * p + 0], _mm256_and_si256(_mm256_slli_epi16(v, 4), top));
        w[4 * p + 1] = _mm256_or_si256(w[4 * p + 1], _mm256_and_si256(_mm256_slli_epi16(v, 2), top));
        w[4 * p + 2] = _mm256_or_si256(w[4 * p + 2], _mm256_and_si256(v, top));
        w[4 * p + 3] = _mm256_or_si256(w[4 * p + 3], _mm256_and_si256(_mm256_srli_epi16(v, 2), top));
      }
#pragma clang loop unroll(full)
      for (int j = 0; j < 8; j++) {
        sg[j] = _mm256_sub_epi8(w[j], offset);
        w[j] = _mm256_abs_epi8(sg[j]);
      }
    } else {
#pragma clang loop unroll(full)
      for (int j = 0; j < 4; j++) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(qp + 64 * j + 32 * h));
        w[j] = _mm256_and_si256(v, low);
        w[4 + j] = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
      }
    }
    if (dtype == 7) {
      // d · sc of each half of the 32 elements for the 8 rows (exact in f32)
      const int8_t *sc = x16_q6_K_scales(s, b) + 8 * h;
      __m256 lo_w = _mm256_mul_ps(dw, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)sc))));
      __m256 hi_w =
          _mm256_mul_ps(dw, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(sc + 16)))));
#pragma clang loop unroll(full)
      for (int i = 0; i < MR; i++) {
        __m256i lo = _mm256_madd_epi16(pair_sums4(w, sg, xb + 8 * i, 0), ones);
        __m256i hi = _mm256_madd_epi16(pair_sums4(w + 4, sg + 4, xb + 8 * i, 4), ones);
        __m256 sum = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lo), lo_w, _mm256_mul_ps(_mm256_cvtepi32_ps(hi), hi_w));
        acc[i] = _mm256_fmadd_ps(sum, _mm256_set1_ps(ab[i].d), acc[i]);
      }
      continue;
    }
#pragma clang loop unroll(full)
    for (int i = 0; i < MR; i++) {
      __m256i dot;
      if (dtype == 3) {
        dot = _mm256_setzero_si256();
#pragma clang loop unroll(full)
        for (int j = 0; j < 8; j++) {
          __m256i x = _mm256_sign_epi8(_mm256_set1_epi32(xb[8 * i + j]), sg[j]);
          dot = _mm256_add_epi32(dot, _mm256_madd_epi16(_mm256_maddubs_epi16(w[j], x), ones));
        }
      } else {
        __m256i pairs = _mm256_add_epi16(pair_sums4(w, 0, xb + 8 * i, 0), pair_sums4(w + 4, 0, xb + 8 * i, 4));
        dot = _mm256_madd_epi16(pairs, ones);
        if (dtype == 4) dot = _mm256_add_epi32(dot, _mm256_set1_epi32(ab[i].minus8sum));  // Σ (u - 8) x
      }
      acc[i] = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(dot), _mm256_set1_ps(ab[i].d)), dw, acc[i]);
      if (dtype == 5 || dtype == 6) acc[i] = _mm256_fmadd_ps(mw, _mm256_set1_ps(ab[i].dsum), acc[i]);  // m · Σx
    }
  }
  long n = valid - 8 * h < 8 ? valid - 8 * h : 8;
  __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
#pragma clang loop unroll(full)
  for (int i = 0; i < MR; i++) _mm256_maskstore_ps(y + (i0 + i) * ldy, mask, acc[i]);
}

// Every dtype and pass height gets its own fully unrolled body.
#define HALF_ROWS(NAME, DT)                                                                                        \
  AVX2 static void half_rows_##NAME(const uint8_t *q, const uint16_t *s, long blocks, const int8_t *xp,            \
                                    const seesaw_q8_aux *ap, long height, long i0, long mr, int h, float *y,       \
                                    long ldy, long valid) {                                                        \
    switch (mr) {                                                                                                  \
    case 1: half_rows(DT, q, s, blocks, xp, ap, height, i0, 1, h, y, ldy, valid); break;                           \
    case 2: half_rows(DT, q, s, blocks, xp, ap, height, i0, 2, h, y, ldy, valid); break;                           \
    case 3: half_rows(DT, q, s, blocks, xp, ap, height, i0, 3, h, y, ldy, valid); break;                           \
    default: half_rows(DT, q, s, blocks, xp, ap, height, i0, AVX2_INT8_MR, h, y, ldy, valid); break;               \
    }                                                                                                              \
  }

HALF_ROWS(q8_0, 3)
HALF_ROWS(q4_0, 4)
HALF_ROWS(q4_1, 5)
HALF_ROWS(q4_K, 6)
HALF_ROWS(q6_K, 7)

void seesaw_gemv_int8_x16_avx2(int dtype, const uint8_t *quants, const uint16_t *scales, long rows, long group0,
                               long groups, const int8_t *xq, const seesaw_q8_aux *aux, long k, long m, float *y,
                               long ldy) {
  const long blocks = k / 32;
  for (long p = 0; p < m; p += SEESAW_INT8_PANEL) {  // one panel of x per pass over the weights
    long height = m - p < SEESAW_INT8_PANEL ? m - p : SEESAW_INT8_PANEL;
    const int8_t *xp = xq + p * k;
    const seesaw_q8_aux *ap = aux + p * blocks;
    for (long g = group0; g < group0 + groups; g++) {
      x16_group at = x16_group_at(dtype, quants, scales, rows, k, g);
      for (int h = 0; h < 2 && 8 * h < at.valid; h++) {
        float *out = y + p * ldy + g * 16 + 8 * h;
        for (long i0 = 0; i0 < height; i0 += AVX2_INT8_MR) {
          long mr = height - i0 < AVX2_INT8_MR ? height - i0 : AVX2_INT8_MR;
#define HALF_ARGS at.quants, at.scales, blocks, xp, ap, height, i0, mr, h, out, ldy, at.valid
          switch (dtype) {
          case 3: half_rows_q8_0(HALF_ARGS); break;
          case 4: half_rows_q4_0(HALF_ARGS); break;
          case 6: half_rows_q4_K(HALF_ARGS); break;
          case 7: half_rows_q6_K(HALF_ARGS); break;
          default: half_rows_q4_1(HALF_ARGS); break;
          }
#undef HALF_ARGS
        }
      }
    }
  }
}

/// seesaw_quantize_panels_q8 on AVX2: the same quants and records (round to nearest even, saturating packs).
AVX2 void seesaw_quantize_panels_q8_avx2(const float *x, long m, long k, long row0, long rows, int8_t *xq,
                                         seesaw_q8_aux *aux) {
  const long P = SEESAW_INT8_PANEL, blocks = k / 32;
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);  // the packs' lane interleaving undone
  for (long i = row0; i < row0 + rows; i++) {
    long p = i / P, r = i % P, height = m - P * p < P ? m - P * p : P;
    for (long b = 0; b < blocks; b++) {
      const float *v = x + i * k + b * 32;
      __m256 f[4];
      for (int t = 0; t < 4; t++) f[t] = _mm256_loadu_ps(v + 8 * t);
      __m256 amax8 = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, f[0]), _mm256_andnot_ps(sign, f[1])),
                                   _mm256_max_ps(_mm256_andnot_ps(sign, f[2]), _mm256_andnot_ps(sign, f[3])));
      __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(amax8), _mm256_extractf128_ps(amax8, 1));
      m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
      float amax = _mm_cvtss_f32(_mm_max_ss(m4, _mm_movehdup_ps(m4)));
      float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
      __m256 s = _mm256_set1_ps(id);
      __m256i qi[4];
      for (int t = 0; t < 4; t++) qi[t] = _mm256_cvtps_epi32(_mm256_mul_ps(f[t], s));
      __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(qi[0], qi[1]), _mm256_packs_epi32(qi[2], qi[3]));
      long at = P * p * blocks + b * height + r;  // (panel, block, row)
      _mm256_storeu_si256((__m256i *)(xq + at * 32), _mm256_permutevar8x32_epi32(packed, order));
      __m256i lo = _mm256_add_epi32(qi[0], qi[1]), hi = _mm256_add_epi32(qi[2], qi[3]);
      __m128i lo4 = _mm_add_epi32(_mm256_castsi256_si128(lo), _mm256_extracti128_si256(lo, 1));
      __m128i hi4 = _mm_add_epi32(_mm256_castsi256_si128(hi), _mm256_extracti128_si256(hi, 1));
      __m128i both = _mm_hadd_epi32(lo4, hi4);  // lo0+lo1, lo2+lo3, hi0+hi1, hi2+hi3
      both = _mm_hadd_epi32(both, both);
      aux[at] = q8_aux_record(d, _mm_cvtsi128_si32(both), _mm_extract_epi32(both, 1));
    }
  }
}
