// The block and float formats of ggml (dtype codes 0-5 of seesaw_gemv) on AVX2 + FMA + F16C: a block of 32 weights
// dequantized into four registers of 8 exactly as ggml's reference does (Q8_0 d * q, Q4_0 (q - 8) * d, Q4_1 d * q
// then + m, never fused; F16 through F16C, bit for bit the table's values). Shared by gemv_avx2.c and dequantize.c.
#ifndef SEESAW_AVX2_BLOCKS_H
#define SEESAW_AVX2_BLOCKS_H
#include <immintrin.h>
#include <stdint.h>

#include "f16_table.h"
#include "kquants.h"

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


/// The sum of v's 8 lanes.
AVX2 static inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

AVX2 static inline __m256 half_at8(const uint8_t *p) { return _mm256_set1_ps(f16_at(p)); }

// Eight signed bytes as f32.
AVX2 static inline __m256 bytes_ps(__m128i q) { return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)); }

AVX2 static inline void deq_q8_0(const uint8_t *p, __m256 w[4]) {
  __m256 d = half_at8(p);
  for (int j = 0; j < 4; j++) w[j] = _mm256_mul_ps(d, bytes_ps(_mm_loadl_epi64((const __m128i *)(p + 2 + 8 * j))));
}

// A 4-bit block's 16 bytes: element j in the low nibble of byte j, element j + 16 in its high nibble. Eight bytes
// widened to 32-bit lanes at once (a load and one vpmovzxbd) give both nibbles of each with one mask and one shift:
// lo = elements j..j+7, hi = j+16..j+23 (at batch 1, 25-30% fewer instructions per block than widening each nibble
// vector from bytes).
AVX2 static inline void nibbles8(const uint8_t *qs, __m256i *lo, __m256i *hi) {
  __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)qs));
  *lo = _mm256_and_si256(v, _mm256_set1_epi32(15));
  *hi = _mm256_srli_epi32(v, 4);
}

// The 32 values of a 4-bit block as integers (minus `bias`) in f32, elements 0-7, 8-15, 16-23, 24-31.
AVX2 static inline void nibble_values(const uint8_t *qs, int bias, __m256 q[4]) {
  __m256i lo0, hi0, lo1, hi1, b = _mm256_set1_epi32(bias);
  nibbles8(qs, &lo0, &hi0);
  nibbles8(qs + 8, &lo1, &hi1);
  q[0] = _mm256_cvtepi32_ps(_mm256_sub_epi32(lo0, b));
  q[1] = _mm256_cvtepi32_ps(_mm256_sub_epi32(lo1, b));
  q[2] = _mm256_cvtepi32_ps(_mm256_sub_epi32(hi0, b));
  q[3] = _mm256_cvtepi32_ps(_mm256_sub_epi32(hi1, b));
}

AVX2 static inline void deq_q4_0(const uint8_t *p, __m256 w[4]) {
  __m256 d = half_at8(p);
  nibble_values(p + 2, 8, w);
  for (int j = 0; j < 4; j++) w[j] = _mm256_mul_ps(w[j], d);
}

AVX2 static inline void deq_q4_1(const uint8_t *p, __m256 w[4]) {
  __m256 d = half_at8(p), m = half_at8(p + 2);
  nibble_values(p + 4, 0, w);
  for (int j = 0; j < 4; j++) w[j] = _mm256_add_ps(_mm256_mul_ps(w[j], d), m);
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

// K-quant super-blocks of 256 weights as eight units of 32, unpacked once per super-block into `kq_state`.
typedef struct {
  float ds[16];  // Q4_K: d · sc per unit (8); Q6_K: d · scales[i] per run of 16 (16)
  float ms[8];   // Q4_K: dmin · m per unit
  int8_t q[256]; // Q6_K: the values q - 32 in element order
} kq_state;

// Q4_K (144 bytes: f16 d, f16 dmin, 12 bytes of 6-bit scales and mins, 128 bytes of nibbles).
AVX2 static inline void q4_K_prepare_avx2(const uint8_t *p, kq_state *s) {
  uint8_t sc[8], m[8];
  q4_K_scales(p + 4, sc, m);
  float d = f16_at(p), dmin = f16_at(p + 2);
  for (int j = 0; j < 8; j++) {
    s->ds[j] = d * (float)sc[j];
    s->ms[j] = dmin * (float)m[j];
  }
}

// Unit j: the low (j even) or high (j odd) nibbles of bytes 32 (j / 2) .. +31, d1 · q - m1 (ggml's two roundings).
AVX2 static inline void q4_K_unit_avx2(const uint8_t *p, const kq_state *s, int j, __m256 w[4]) {
  __m256i bytes = _mm256_loadu_si256((const __m256i *)(p + 16 + 32 * (j / 2)));
  if (j & 1) bytes = _mm256_srli_epi16(bytes, 4);
  bytes = _mm256_and_si256(bytes, _mm256_set1_epi8(15));
  __m256 d = _mm256_set1_ps(s->ds[j]), m = _mm256_set1_ps(s->ms[j]);
  __m128i lo = _mm256_castsi256_si128(bytes), hi = _mm256_extracti128_si256(bytes, 1);
  w[0] = _mm256_sub_ps(_mm256_mul_ps(d, bytes_ps(lo)), m);
  w[1] = _mm256_sub_ps(_mm256_mul_ps(d, bytes_ps(_mm_srli_si128(lo, 8))), m);
  w[2] = _mm256_sub_ps(_mm256_mul_ps(d, bytes_ps(hi)), m);
  w[3] = _mm256_sub_ps(_mm256_mul_ps(d, bytes_ps(_mm_srli_si128(hi, 8))), m);
}

// Q6_K (210 bytes: 128 bytes of low nibbles, 64 of high 2-bit pairs, 16 int8 scales, f16 d). Per half of 128: ql's
// low nibbles with qh's bits 0-1 (elements 0..31) and, from ql's second 32 bytes, bits 2-3 (32..63); ql's high
// nibbles with bits 4-5 (64..95) and 6-7 (96..127). The 16-bit shifts carry bits across bytes only where the
// masks drop them.
AVX2 static inline void q6_K_prepare_avx2(const uint8_t *p, kq_state *s) {
  __m256 d = half_at8(p + 208);
  for (int i = 0; i < 2; i++)
    _mm256_storeu_ps(s->ds + 8 * i, _mm256_mul_ps(d, bytes_ps(_mm_loadl_epi64((const __m128i *)(p + 192 + 8 * i)))));
  const __m256i low4 = _mm256_set1_epi8(15), bits45 = _mm256_set1_epi8(0x30), bias = _mm256_set1_epi8(32);
  for (int half = 0; half < 2; half++) {
    __m256i l0 = _mm256_loadu_si256((const __m256i *)(p + 64 * half));
    __m256i l1 = _mm256_loadu_si256((const __m256i *)(p + 64 * half + 32));
    __m256i h = _mm256_loadu_si256((const __m256i *)(p + 128 + 32 * half));
    __m256i q[4] = {
        _mm256_or_si256(_mm256_and_si256(l0, low4), _mm256_and_si256(_mm256_slli_epi16(h, 4), bits45)),
        _mm256_or_si256(_mm256_and_si256(l1, low4), _mm256_and_si256(_mm256_slli_epi16(h, 2), bits45)),
        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low4), _mm256_and_si256(h, bits45)),
        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low4),
                        _mm256_and_si256(_mm256_srli_epi16(h, 2), bits45)),
    };
    for (int i = 0; i < 4; i++)
      _mm256_storeu_si256((__m256i *)(s->q + 128 * half + 32 * i), _mm256_sub_epi8(q[i], bias));
  }
}

// Unit j: (d · scale) · (q - 32), two runs of 16.
AVX2 static inline void q6_K_unit_avx2(const uint8_t *p, const kq_state *s, int j, __m256 w[4]) {
  (void)p;
  const int8_t *q = s->q + 32 * j;
  __m256 d0 = _mm256_set1_ps(s->ds[2 * j]), d1 = _mm256_set1_ps(s->ds[2 * j + 1]);
  w[0] = _mm256_mul_ps(d0, bytes_ps(_mm_loadl_epi64((const __m128i *)q)));
  w[1] = _mm256_mul_ps(d0, bytes_ps(_mm_loadl_epi64((const __m128i *)(q + 8))));
  w[2] = _mm256_mul_ps(d1, bytes_ps(_mm_loadl_epi64((const __m128i *)(q + 16))));
  w[3] = _mm256_mul_ps(d1, bytes_ps(_mm_loadl_epi64((const __m128i *)(q + 24))));
}
#endif
