// The 16 values a weight of a 4-bit ggml block can take, in one register, so that vpermps (which reads the low 4 bits
// of each index lane) turns 16 of the block's nibbles into 16 dequantized weights at once. Built with ggml's
// arithmetic (d * (q - 8) for q4_0; d * q, then + m, never fused, for q4_1): the lookups give ggml's bits. Shared by
// the dequantization and the gemv kernels (whose batch-1 Q4_1 kernel fuses the q4_1 values into one FMA, gemv.c).
#ifndef SEESAW_Q4_VALUES_H
#define SEESAW_Q4_VALUES_H
#include <immintrin.h>
#include <stdint.h>

#include "f16_table.h"

__attribute__((target("avx512f"))) static inline __m512 q4_nibbles(void) {
  return _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
}

/// d * (i - 8) for i < 16, d the f16 scale of the q4_0 block at p.
__attribute__((target("avx512f"))) static inline __m512 q4_0_values(const uint8_t *p) {
  return _mm512_mul_ps(_mm512_set1_ps(f16_at(p)), _mm512_sub_ps(q4_nibbles(), _mm512_set1_ps(8)));
}

/// d * i + m for i < 16, d and m the f16 scale and minimum of the q4_1 block at p.
__attribute__((target("avx512f"))) static inline __m512 q4_1_values(const uint8_t *p) {
  return _mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(f16_at(p)), q4_nibbles()), _mm512_set1_ps(f16_at(p + 2)));
}

/// A block's 32 weights: elements 0..15 (the low nibbles of its 16 quant bytes at q) and 16..31 (the high ones).
__attribute__((target("avx512f"))) static inline void q4_pick(__m512 values, const uint8_t *q, __m512 *lo,
                                                              __m512 *hi) {
  __m512i nibbles = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)q));
  *lo = _mm512_permutexvar_ps(nibbles, values);
  *hi = _mm512_permutexvar_ps(_mm512_srli_epi32(nibbles, 4), values);
}

/// The 32 weights of the q4_0 block at p (18 bytes), or of the q4_1 block at p (20 bytes).
__attribute__((target("avx512f"))) static inline void q4_0_block(const uint8_t *p, __m512 *lo, __m512 *hi) {
  q4_pick(q4_0_values(p), p + 2, lo, hi);
}

__attribute__((target("avx512f"))) static inline void q4_1_block(const uint8_t *p, __m512 *lo, __m512 *hi) {
  q4_pick(q4_1_values(p), p + 4, lo, hi);
}
#endif
