#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "f16_table.h"
#include "seesaw_gemm.h"
#include "tile_store.h"

// The opt-in bf16 products (int8 is in gemv_int8.c). They read the weights in their stored form, as the f32 kernels
// do: x and the dequantized weights are rounded to bf16 and multiplied pairwise with vdpbf16ps (f32 sums).

#define BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,f16c,fma")))

int seesaw_bf16_available(void) {
  static int cached = -1;
  if (cached < 0) {
    __builtin_cpu_init();
    cached = seesaw_gemm_available() && __builtin_cpu_supports("avx512bf16");
  }
  return cached;
}

// An f16 scale in every lane: one broadcast load from the f16 table (see f16_table.h).
__attribute__((target("avx512f"))) static inline __m512 half_vector(const uint8_t *p) {
  return _mm512_set1_ps(f16_at(p));
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
