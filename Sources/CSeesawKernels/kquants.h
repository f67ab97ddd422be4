// Shared by the dequantization and the K-quant products: the unpacking of K-quant super-blocks (the same operations
// in both, hence the same bits, but for the batch-1 Q4_K gemv's fused values), and the four-sums reduction of the
// batch-1 gemv kernels.
#ifndef SEESAW_KQUANTS_H
#define SEESAW_KQUANTS_H
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "f16_table.h"

#define KQ_AVX512 __attribute__((target("avx512f,avx512bw,f16c")))

/// The 6-bit scales and mins of a Q4_K super-block's 8 sub-blocks, unpacked from its 12 bytes (get_scale_min_k4),
/// as 8 bytes each: four bytes at a time in 32-bit words, so the results leave in registers, not in 16 byte stores.
static inline void q4_K_scale_words(const uint8_t *q, uint64_t *sc, uint64_t *m) {
  uint32_t u[3];
  memcpy(u, q, 12);
  const uint32_t low6 = 0x3f3f3f3f, low4 = 0x0f0f0f0f, top2 = 0x03030303;
  uint32_t sc_hi = (u[2] & low4) | (((u[0] >> 6) & top2) << 4);
  uint32_t m_hi = ((u[2] >> 4) & low4) | (((u[1] >> 6) & top2) << 4);
  *sc = (uint64_t)(u[0] & low6) | (uint64_t)sc_hi << 32;
  *m = (uint64_t)(u[1] & low6) | (uint64_t)m_hi << 32;
}

/// The same as 8 + 8 bytes.
static inline void q4_K_scales(const uint8_t *q, uint8_t sc[8], uint8_t m[8]) {
  uint64_t s, n;
  q4_K_scale_words(q, &s, &n);
  memcpy(sc, &s, 8);
  memcpy(m, &n, 8);
}

// Q4_K (144 bytes: f16 d, f16 dmin, 12 bytes of 6-bit scales and mins, 128 bytes of nibbles): the scales of the 8
// sub-blocks as floats, d · sc and dmin · m.
KQ_AVX512 static inline void q4_K_prepare(const uint8_t *p, float ds[8], float ms[8]) {
  uint8_t sc[8], m[8];
  q4_K_scales(p + 4, sc, m);
  __m256 scf = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)sc)));
  __m256 mf = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)m)));
  _mm256_storeu_ps(ds, _mm256_mul_ps(_mm256_set1_ps(f16_at(p)), scf));
  _mm256_storeu_ps(ms, _mm256_mul_ps(_mm256_set1_ps(f16_at(p + 2)), mf));
}

// Q6_K (210 bytes: 128 bytes of low nibbles, 64 of high 2-bit pairs, 16 int8 scales, f16 d): d · scales[i] for
// the 16 runs of 16 elements, and the 256 values q - 32 as bytes in element order. A half's 128 values are assembled
// 64 at a time: ql's low nibbles with qh's bits 0-1 (elements 0..31) and 2-3 (32..63), then ql's high nibbles with
// bits 4-5 and 6-7 (64..127).
KQ_AVX512 static inline void q6_K_prepare(const uint8_t *p, float ds[16], int8_t q[256]) {
  const __m512i low4 = _mm512_set1_epi8(15), bits45 = _mm512_set1_epi8(0x30), bias = _mm512_set1_epi8(32);
  // qh's 2-bit fields to bits 4-5: left 4 / left 2 for the low-nibble halves, right 0 / right 2 for the high ones
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

// Elements 64g..64g+63 of a Q4_K super-block: the 16 values d1 · k - m1 of each sub-block in one vector, each
// weight picked by vpermps from its nibble. The values take a multiply and a subtraction (ggml's bits), or with
// `fused` one FMA: the batch-1 gemv, bound by its port-0/5 instructions, saves one per sub-block and row.
KQ_AVX512 static inline void q4_K_unit(const uint8_t *p, const float *ds, const float *ms, int g, int fused,
                                       __m512 w[4]) {
  const __m512 iota = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  __m512 t[2];
  for (int i = 0; i < 2; i++) {
    __m512 d = _mm512_set1_ps(ds[2 * g + i]), m = _mm512_set1_ps(ms[2 * g + i]);
    t[i] = fused ? _mm512_fmsub_ps(d, iota, m) : _mm512_sub_ps(_mm512_mul_ps(d, iota), m);
  }
  const uint8_t *q = p + 16 + 32 * g;
  __m512i v0 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)q));
  __m512i v1 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(q + 16)));
  w[0] = _mm512_permutexvar_ps(v0, t[0]);
  w[1] = _mm512_permutexvar_ps(v1, t[0]);
  w[2] = _mm512_permutexvar_ps(_mm512_srli_epi32(v0, 4), t[1]);
  w[3] = _mm512_permutexvar_ps(_mm512_srli_epi32(v1, 4), t[1]);
}

// Elements 16i..16i+15 of a prepared Q6_K super-block.
KQ_AVX512 static inline __m512 q6_K_vector(const float *ds, const int8_t *q, int i) {
  __m512 v = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(q + 16 * i))));
  return _mm512_mul_ps(_mm512_set1_ps(ds[i]), v);
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

/// out[r] = the sum of both accumulators of weight row r, for the four rows of a batch-1 gemv kernel.
__attribute__((target("avx512f"))) static inline void store_row_sums4(float *out, __m512 acc[4][2]) {
  _mm_storeu_ps(out, hsum4(_mm512_add_ps(acc[0][0], acc[0][1]), _mm512_add_ps(acc[1][0], acc[1][1]),
                           _mm512_add_ps(acc[2][0], acc[2][1]), _mm512_add_ps(acc[3][0], acc[3][1])));
}
#endif
