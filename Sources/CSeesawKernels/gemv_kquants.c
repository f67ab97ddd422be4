#include <immintrin.h>
#include <stdint.h>

#include "f16_table.h"
#include "gemv_kquants.h"
#include "kquants.h"

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,f16c,fma")))

// The products of gemv.c for the K-quants (ggml's 256-element super-blocks), so that a Q4_K_M file decodes from its
// compact form too: through a dequantized [4, K] buffer and the tiled kernel, batch 1 read Q4_K at 3.7 GB/s and Q6_K
// at 5.2 where Q4_0 reached 27 (`seesaw bench matmul`, 5632 x 2048, two threads). Each super-block's weights are
// built in registers 16 at a time with the operations of dequantize.c (the same bits) and multiplied into the rows
// of x while there.

// ---- one super-block's weights ------------------------------------------------------------------------------------

// Q4_K (144 bytes: f16 d, f16 dmin, 12 bytes of 6-bit scales and mins, 128 bytes of nibbles): the scales of the 8
// sub-blocks as floats, d · sc and dmin · m.
AVX512 static inline void q4_K_prepare(const uint8_t *p, float ds[8], float ms[8]) {
  uint8_t sc[8], m[8];
  q4_K_scales(p + 4, sc, m);
  __m256 scf = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)sc)));
  __m256 mf = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)m)));
  _mm256_storeu_ps(ds, _mm256_mul_ps(_mm256_set1_ps(f16_at(p)), scf));
  _mm256_storeu_ps(ms, _mm256_mul_ps(_mm256_set1_ps(f16_at(p + 2)), mf));
}

// Elements 64g..64g+63 of a Q4_K super-block: the 16 values d1 · k - m1 of each sub-block in one vector, each
// weight picked by vpermps from its nibble.
AVX512 static inline void q4_K_unit(const uint8_t *p, const float *ds, const float *ms, int g, __m512 w[4]) {
  const __m512 iota = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const uint8_t *q = p + 16 + 32 * g;
  __m512 t1 = _mm512_sub_ps(_mm512_mul_ps(_mm512_set1_ps(ds[2 * g]), iota), _mm512_set1_ps(ms[2 * g]));
  __m512 t2 = _mm512_sub_ps(_mm512_mul_ps(_mm512_set1_ps(ds[2 * g + 1]), iota), _mm512_set1_ps(ms[2 * g + 1]));
  __m512i v0 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)q));
  __m512i v1 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(q + 16)));
  w[0] = _mm512_permutexvar_ps(v0, t1);
  w[1] = _mm512_permutexvar_ps(v1, t1);
  w[2] = _mm512_permutexvar_ps(_mm512_srli_epi32(v0, 4), t2);
  w[3] = _mm512_permutexvar_ps(_mm512_srli_epi32(v1, 4), t2);
}

// Q6_K (210 bytes: 128 bytes of low nibbles, 64 of high 2-bit pairs, 16 int8 scales, f16 d): d · scales[i] for
// the 16 runs of 16 elements, and the 256 values q - 32 as bytes in element order (as dequantize.c assembles them).
AVX512 static inline void q6_K_prepare(const uint8_t *p, float ds[16], int8_t q[256]) {
  const __m512i low4 = _mm512_set1_epi8(15), bits45 = _mm512_set1_epi8(0x30), bias = _mm512_set1_epi8(32);
  const __m512i shl = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
  const __m512i shr = _mm512_inserti64x4(_mm512_set1_epi16(0), _mm256_set1_epi16(2), 1);
  __m512 scales = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p + 192))));
  _mm512_storeu_ps(ds, _mm512_mul_ps(_mm512_set1_ps(f16_at(p + 208)), scales));
  for (int half = 0; half < 2; half++) {
    __m512i l = _mm512_loadu_si512(p + 64 * half);
    __m512i h = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(p + 128 + 32 * half)));
    __m512i lo = _mm512_or_si512(_mm512_and_si512(l, low4), _mm512_and_si512(_mm512_sllv_epi16(h, shl), bits45));
    __m512i hi = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), low4),
                                 _mm512_and_si512(_mm512_srlv_epi16(h, shr), bits45));
    _mm512_storeu_si512(q + 128 * half, _mm512_sub_epi8(lo, bias));
    _mm512_storeu_si512(q + 128 * half + 64, _mm512_sub_epi8(hi, bias));
  }
}

// Elements 16i..16i+15 of a prepared Q6_K super-block.
AVX512 static inline __m512 q6_K_vector(const float *ds, const int8_t *q, int i) {
  __m512 v = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(q + 16 * i))));
  return _mm512_mul_ps(_mm512_set1_ps(ds[i]), v);
}

// The lines of a super-block of `bytes` at p (it may straddle one more line than bytes / 64).
#define PREFETCH_SUPERBLOCK(p, bytes)                                                                                  \
  for (long l_ = 0; l_ < (bytes); l_ += 64) _mm_prefetch((const char *)(p) + l_, _MM_HINT_T0);                          \
  _mm_prefetch((const char *)(p) + (bytes) - 1, _MM_HINT_T0)

// ---- four weight rows against one row of x (batch 1) ------------------------------------------------------------

// As gemv.c's rows4: the rows' super-blocks interleave, so each accumulator waits for its FMA once per four rows,
// and each row prefetches the super-block two groups of rows below it.
AVX512 static void rows4_q4_K(const uint8_t *w, long row_bytes, const float *x, long k, float *out) {
  __m512 acc[4][2];
  for (int r = 0; r < 4; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (long b = 0; b < k / 256; b++) {
    float ds[4][8], ms[4][8];
    for (int r = 0; r < 4; r++) {
      const uint8_t *p = w + r * row_bytes + b * 144;
      PREFETCH_SUPERBLOCK(p + 8 * row_bytes, 144);
      q4_K_prepare(p, ds[r], ms[r]);
    }
    for (int g = 0; g < 4; g++) {
      const float *xg = x + b * 256 + 64 * g;
      __m512 x0 = _mm512_loadu_ps(xg), x1 = _mm512_loadu_ps(xg + 16);
      __m512 x2 = _mm512_loadu_ps(xg + 32), x3 = _mm512_loadu_ps(xg + 48);
      for (int r = 0; r < 4; r++) {
        __m512 v[4];
        q4_K_unit(w + r * row_bytes + b * 144, ds[r], ms[r], g, v);
        acc[r][0] = _mm512_fmadd_ps(x0, v[0], acc[r][0]);
        acc[r][1] = _mm512_fmadd_ps(x1, v[1], acc[r][1]);
        acc[r][0] = _mm512_fmadd_ps(x2, v[2], acc[r][0]);
        acc[r][1] = _mm512_fmadd_ps(x3, v[3], acc[r][1]);
      }
    }
  }
  _mm_storeu_ps(out, hsum4(_mm512_add_ps(acc[0][0], acc[0][1]), _mm512_add_ps(acc[1][0], acc[1][1]),
                           _mm512_add_ps(acc[2][0], acc[2][1]), _mm512_add_ps(acc[3][0], acc[3][1])));
}

AVX512 static void rows4_q6_K(const uint8_t *w, long row_bytes, const float *x, long k, float *out) {
  __m512 acc[4][2];
  for (int r = 0; r < 4; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (long b = 0; b < k / 256; b++) {
    float ds[4][16];
    int8_t q[4][256];
    for (int r = 0; r < 4; r++) {
      const uint8_t *p = w + r * row_bytes + b * 210;
      PREFETCH_SUPERBLOCK(p + 8 * row_bytes, 210);
      q6_K_prepare(p, ds[r], q[r]);
    }
    for (int i = 0; i < 16; i++) {
      __m512 xv = _mm512_loadu_ps(x + b * 256 + 16 * i);
      for (int r = 0; r < 4; r++) acc[r][i & 1] = _mm512_fmadd_ps(xv, q6_K_vector(ds[r], q[r], i), acc[r][i & 1]);
    }
  }
  _mm_storeu_ps(out, hsum4(_mm512_add_ps(acc[0][0], acc[0][1]), _mm512_add_ps(acc[1][0], acc[1][1]),
                           _mm512_add_ps(acc[2][0], acc[2][1]), _mm512_add_ps(acc[3][0], acc[3][1])));
}

// ---- one weight row against up to four rows of x ----------------------------------------------------------------

AVX512 __attribute__((always_inline)) static inline void row_q4_K_mr(const uint8_t *w, const float *x, long k,
                                                                      const int mr, float *out, long ldy) {
  __m512 acc[4][2];
  for (int i = 0; i < 4; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (long b = 0; b < k / 256; b++) {
    const uint8_t *p = w + b * 144;
    PREFETCH_SUPERBLOCK(p + 2048, 144);
    float ds[8], ms[8];
    q4_K_prepare(p, ds, ms);
    for (int g = 0; g < 4; g++) {
      __m512 v[4];
      q4_K_unit(p, ds, ms, g, v);
      for (int i = 0; i < mr; i++) {
        const float *xg = x + i * k + b * 256 + 64 * g;
        acc[i][0] = _mm512_fmadd_ps(_mm512_loadu_ps(xg), v[0], acc[i][0]);
        acc[i][1] = _mm512_fmadd_ps(_mm512_loadu_ps(xg + 16), v[1], acc[i][1]);
        acc[i][0] = _mm512_fmadd_ps(_mm512_loadu_ps(xg + 32), v[2], acc[i][0]);
        acc[i][1] = _mm512_fmadd_ps(_mm512_loadu_ps(xg + 48), v[3], acc[i][1]);
      }
    }
  }
  for (int i = 0; i < mr; i++) out[i * ldy] = _mm512_reduce_add_ps(_mm512_add_ps(acc[i][0], acc[i][1]));
}

AVX512 __attribute__((always_inline)) static inline void row_q6_K_mr(const uint8_t *w, const float *x, long k,
                                                                      const int mr, float *out, long ldy) {
  __m512 acc[4][2];
  for (int i = 0; i < 4; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (long b = 0; b < k / 256; b++) {
    const uint8_t *p = w + b * 210;
    PREFETCH_SUPERBLOCK(p + 2048, 210);
    float ds[16];
    int8_t q[256];
    q6_K_prepare(p, ds, q);
    for (int v = 0; v < 16; v++) {
      __m512 wv = q6_K_vector(ds, q, v);
      for (int i = 0; i < mr; i++)
        acc[i][v & 1] = _mm512_fmadd_ps(_mm512_loadu_ps(x + i * k + b * 256 + 16 * v), wv, acc[i][v & 1]);
    }
  }
  for (int i = 0; i < mr; i++) out[i * ldy] = _mm512_reduce_add_ps(_mm512_add_ps(acc[i][0], acc[i][1]));
}

// mr as a constant, so that the accumulators live in registers.
#define ROW_MR(NAME)                                                                                                   \
  AVX512 static void row_##NAME(const uint8_t *w, const float *x, long k, int mr, float *out, long ldy) {            \
    switch (mr) {                                                                                                      \
    case 1: row_##NAME##_mr(w, x, k, 1, out, ldy); break;                                                              \
    case 2: row_##NAME##_mr(w, x, k, 2, out, ldy); break;                                                              \
    case 3: row_##NAME##_mr(w, x, k, 3, out, ldy); break;                                                              \
    default: row_##NAME##_mr(w, x, k, 4, out, ldy); break;                                                             \
    }                                                                                                                  \
  }
ROW_MR(q4_K)
ROW_MR(q6_K)

void seesaw_gemv_kquant(int dtype, const uint8_t *w, long row_bytes, long rows, const float *x, long k, long m,
                        float *y, long ldy) {
  long r0 = 0;
  if (m == 1) {
    for (; r0 + 4 <= rows; r0 += 4) {
      if (dtype == 6) rows4_q4_K(w + r0 * row_bytes, row_bytes, x, k, y + r0);
      else rows4_q6_K(w + r0 * row_bytes, row_bytes, x, k, y + r0);
    }
  }
  for (long r = r0; r < rows; r++) {
    for (long i0 = 0; i0 < m; i0 += 4) {
      int mr = m - i0 < 4 ? (int)(m - i0) : 4;
      if (dtype == 6) row_q4_K(w + r * row_bytes, x + i0 * k, k, mr, y + i0 * ldy + r, ldy);
      else row_q6_K(w + r * row_bytes, x + i0 * k, k, mr, y + i0 * ldy + r, ldy);
    }
  }
}
