#include <immintrin.h>

#include "avx2_blocks.h"
#include "seesaw_gemm.h"

// seesaw_gemm_rows on AVX2 CPUs without AVX-512: a token panel [k][32] is taken as two halves of 16 tokens (two
// registers), against weight rows four at a time: 8 accumulators, two panel loads and four broadcasts per k, so
// the eight FMA chains cover both FMA ports through their latency (BLIS's Haswell kernels use 6 x 16; 4 x 16 keeps
// nr ≤ 8 in whole tiles).

// WR weight rows (≤ 4) against the 16 tokens of xp's columns 0..15 (rows of 32 floats).
#define ROWS_TILE_AVX2(WR)                                                                                         \
  AVX2 static void rows_tile##WR(const float *w, long ldw, const float *xp, long k, float *y, long ldy,          \
                                 long tokens, int accumulate) {                                                   \
    __m256 acc[WR][2];                                                                                            \
    for (int r = 0; r < WR; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();                                     \
    for (long t = 0; t < k; t++) {                                                                                \
      __m256 x0 = _mm256_loadu_ps(xp + t * SEESAW_PANEL), x1 = _mm256_loadu_ps(xp + t * SEESAW_PANEL + 8);        \
      for (int r = 0; r < WR; r++) {                                                                              \
        __m256 b = _mm256_broadcast_ss(w + r * ldw + t);                                                          \
        acc[r][0] = _mm256_fmadd_ps(b, x0, acc[r][0]);                                                            \
        acc[r][1] = _mm256_fmadd_ps(b, x1, acc[r][1]);                                                            \
      }                                                                                                           \
    }                                                                                                             \
    float sums[WR][16];                                                                                           \
    for (int r = 0; r < WR; r++) {                                                                                \
      _mm256_storeu_ps(sums[r], acc[r][0]);                                                                       \
      _mm256_storeu_ps(sums[r] + 8, acc[r][1]);                                                                   \
    }                                                                                                             \
    for (long i = 0; i < tokens; i++)                                                                             \
      for (int r = 0; r < WR; r++) y[i * ldy + r] = accumulate ? y[i * ldy + r] + sums[r][i] : sums[r][i];        \
  }

ROWS_TILE_AVX2(4)
ROWS_TILE_AVX2(3)
ROWS_TILE_AVX2(2)
ROWS_TILE_AVX2(1)

AVX2 void seesaw_gemm_rows_avx2(const float *w, long ldw, long nr, const float *xp, long k, long tokens, float *y,
                                long ldy, int accumulate) {
  for (long h = 0; h * 16 < tokens; h++) {
    long count = tokens - 16 * h < 16 ? tokens - 16 * h : 16;
    const float *xh = xp + 16 * h;
    float *yh = y + 16 * h * ldy;
    long r = 0;
    for (; r + 4 <= nr; r += 4) rows_tile4(w + r * ldw, ldw, xh, k, yh + r, ldy, count, accumulate);
    switch (nr - r) {
    case 3: rows_tile3(w + r * ldw, ldw, xh, k, yh + r, ldy, count, accumulate); break;
    case 2: rows_tile2(w + r * ldw, ldw, xh, k, yh + r, ldy, count, accumulate); break;
    case 1: rows_tile1(w + r * ldw, ldw, xh, k, yh + r, ldy, count, accumulate); break;
    default: break;
    }
  }
}
