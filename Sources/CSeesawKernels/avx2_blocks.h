// The block and float formats of ggml (dtype codes 0-5 of seesaw_gemv) on AVX2 + FMA + F16C: a block of 32 weights
// dequantized into four registers of 8 exactly as ggml's reference does (Q8_0 d * q, Q4_0 (q - 8) * d, Q4_1 d * q
// then + m, never fused; F16 through F16C, bit for bit the table's values). Shared by gemv_avx2.c and dequantize.c.
#ifndef SEESAW_AVX2_BLOCKS_H
#define SEESAW_AVX2_BLOCKS_H
#include <immintrin.h>
#include <stdint.h>

#include "f16_table.h"

#define AVX2 __attribute__((target("avx2,fma,f16c")))

/// 1 when the CPU has AVX2, FMA and F16C.
static inline int seesaw_has_avx2(void) {
  static int cached = -1;
  if (cached < 0) {
    __builtin_cpu_init();
    cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
  }
  return cached;
}


AVX2 static inline __m256 half_at8(const uint8_t *p) { return _mm256_set1_ps(f16_at(p)); }

// Eight signed bytes as f32.
AVX2 static inline __m256 bytes_ps(__m128i q) { return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)); }

AVX2 static inline void deq_q8_0(const uint8_t *p, __m256 w[4]) {
  __m256 d = half_at8(p);
  for (int j = 0; j < 4; j++) w[j] = _mm256_mul_ps(d, bytes_ps(_mm_loadl_epi64((const __m128i *)(p + 2 + 8 * j))));
}

// A 4-bit block's 16 bytes: element j in the low nibble of byte j, element j + 16 in its high nibble.
AVX2 static inline void nibbles(const uint8_t *qs, __m128i bias, __m128i *lo, __m128i *hi) {
  __m128i q = _mm_loadu_si128((const __m128i *)qs), mask = _mm_set1_epi8(15);
  *lo = _mm_sub_epi8(_mm_and_si128(q, mask), bias);
  *hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(q, 4), mask), bias);
}

AVX2 static inline void deq_q4_0(const uint8_t *p, __m256 w[4]) {
  __m256 d = half_at8(p);
  __m128i lo, hi;
  nibbles(p + 2, _mm_set1_epi8(8), &lo, &hi);
  w[0] = _mm256_mul_ps(bytes_ps(lo), d);
  w[1] = _mm256_mul_ps(bytes_ps(_mm_srli_si128(lo, 8)), d);
  w[2] = _mm256_mul_ps(bytes_ps(hi), d);
  w[3] = _mm256_mul_ps(bytes_ps(_mm_srli_si128(hi, 8)), d);
}

AVX2 static inline void deq_q4_1(const uint8_t *p, __m256 w[4]) {
  __m256 d = half_at8(p), m = half_at8(p + 2);
  __m128i lo, hi;
  nibbles(p + 4, _mm_setzero_si128(), &lo, &hi);
  w[0] = _mm256_add_ps(_mm256_mul_ps(bytes_ps(lo), d), m);
  w[1] = _mm256_add_ps(_mm256_mul_ps(bytes_ps(_mm_srli_si128(lo, 8)), d), m);
  w[2] = _mm256_add_ps(_mm256_mul_ps(bytes_ps(hi), d), m);
  w[3] = _mm256_add_ps(_mm256_mul_ps(bytes_ps(_mm_srli_si128(hi, 8)), d), m);
}

AVX2 static inline void deq_f32(const uint8_t *p, __m256 w[4]) {
  for (int j = 0; j < 4; j++) w[j] = _mm256_loadu_ps((const float *)p + 8 * j);
}

AVX2 static inline void deq_f16(const uint8_t *p, __m256 w[4]) {
  for (int j = 0; j < 4; j++) w[j] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + 16 * j)));
}

AVX2 static inline void deq_bf16(const uint8_t *p, __m256 w[4]) {
  for (int j = 0; j < 4; j++) {
    __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p + 16 * j)));
    w[j] = _mm256_castsi256_ps(_mm256_slli_epi32(h, 16));
  }
}
#endif
