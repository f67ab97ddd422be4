#include <immintrin.h>
#include <stdint.h>

#include "gemv_kquants.h"
#include "kquants.h"
#include "row_mr.h"

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,f16c,fma")))

// The products of gemv.c for the K-quants (ggml's 256-element super-blocks), so that a Q4_K_M file decodes from its
// compact form too: through a dequantized [4, K] buffer and the tiled kernel, batch 1 read Q4_K at 3.7 GB/s and Q6_K
// at 5.2 where Q4_0 reached 27 (`seesaw bench matmul`, 5632 x 2048, two threads). Each super-block's weights are
// built in registers 16 at a time by kquants.h, as the dequantization builds them (the same bits; at batch 1, Q4_K's
// sub-block values come from one FMA instead), and multiplied into the rows of x while there.

// The lines of a super-block of `bytes` at p (it may straddle one more line than bytes / 64).
#define PREFETCH_SUPERBLOCK(p, bytes)                                                                                  \
  for (long l_ = 0; l_ < (bytes); l_ += 64) _mm_prefetch((const char *)(p) + l_, _MM_HINT_T0);                        \
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
        q4_K_unit(w + r * row_bytes + b * 144, ds[r], ms[r], g, 1, v);
        acc[r][0] = _mm512_fmadd_ps(x0, v[0], acc[r][0]);
        acc[r][1] = _mm512_fmadd_ps(x1, v[1], acc[r][1]);
        acc[r][0] = _mm512_fmadd_ps(x2, v[2], acc[r][0]);
        acc[r][1] = _mm512_fmadd_ps(x3, v[3], acc[r][1]);
      }
    }
  }
  store_row_sums4(out, acc);
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
  store_row_sums4(out, acc);
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
      q4_K_unit(p, ds, ms, g, 0, v);
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

ROW_MR_DISPATCH(AVX512, q4_K)
ROW_MR_DISPATCH(AVX512, q6_K)

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
