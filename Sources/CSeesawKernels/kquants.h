// Shared by the dequantization and the K-quant products: the unpacking of a Q4_K super-block's scales, and the
// four-sums reduction of the gemv kernels.
#ifndef SEESAW_KQUANTS_H
#define SEESAW_KQUANTS_H
#include <immintrin.h>
#include <stdint.h>

/// The 6-bit scales and mins of a Q4_K super-block's 8 sub-blocks, unpacked from its 12 bytes (get_scale_min_k4).
static inline void q4_K_scales(const uint8_t *q, uint8_t sc[8], uint8_t m[8]) {
  for (int j = 0; j < 4; j++) {
    sc[j] = q[j] & 63;
    m[j] = q[j + 4] & 63;
    sc[j + 4] = (q[j + 8] & 0xF) | ((q[j] >> 6) << 4);
    m[j + 4] = (q[j + 8] >> 4) | ((q[j + 4] >> 6) << 4);
  }
}

/// The sums of a, b, c and d in lanes 0-3: pairs of vectors halve together, so 4 sums cost 14 shuffles and adds
/// (four horizontal sums: about 30, in four dependency chains).
__attribute__((target("avx512f"))) static inline __m128 hsum4(__m512 a, __m512 b, __m512 c, __m512 d) {
  // 256-bit halves added: ab holds a's 8 partial sums in its low half and b's in its high half.
  __m512 ab = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xEE));
  __m512 cd = _mm512_add_ps(_mm512_shuffle_f32x4(c, d, 0x44), _mm512_shuffle_f32x4(c, d, 0xEE));
  // 128-bit quarters: lane group 0 a, 1 b, 2 c, 3 d, 4 partial sums each.
  __m512 abcd = _mm512_add_ps(_mm512_shuffle_f32x4(ab, cd, 0x88), _mm512_shuffle_f32x4(ab, cd, 0xDD));
  // Within each 128-bit group: 4 -> 2 -> 1.
  abcd = _mm512_add_ps(abcd, _mm512_permute_ps(abcd, 0x4E));
  abcd = _mm512_add_ps(abcd, _mm512_permute_ps(abcd, 0xB1));
  // Lane 0 of each group to lanes 0-3.
  const __m512i firsts = _mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  return _mm512_castps512_ps128(_mm512_permutexvar_ps(firsts, abcd));
}
#endif
