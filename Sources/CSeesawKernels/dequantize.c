#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "seesaw_kernels.h"

// IEEE half -> float, bit-exact for normals, subnormals, infinities and NaNs.
static float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      exp = 127 - 15 + 1;
      while ((mant & 0x400) == 0) {
        mant <<= 1;
        exp--;
      }
      bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000 | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

static uint16_t load_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

static int has_avx512(void) {
  static int cached = -1;
  if (cached < 0) {
    __builtin_cpu_init();
    cached = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("f16c");
  }
  return cached;
}

#define AVX512 __attribute__((target("avx512f,avx512bw,f16c")))

// An f16 scale as 16 f32 lanes: vpbroadcastw + vcvtph2ps. Not _cvtsh_ss: clang inserts its u16 into whatever register
// is free (vpinsrw), often the previous block's result, which chains every block to the one before (Q8_0 ran at a
// third of its speed).
AVX512 static inline __m512 half_broadcast(const uint8_t *p) {
  return _mm512_cvtph_ps(_mm256_set1_epi16((short)load_u16(p)));
}

AVX512 static void q8_0_avx512(const uint8_t *p, float *y, long n) {
  for (long b = 0; b < n; b++, p += 34, y += 32) {
    __m512 d = half_broadcast(p);
    __m512 lo = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p + 2))));
    __m512 hi = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p + 18))));
    _mm512_storeu_ps(y, _mm512_mul_ps(d, lo));
    _mm512_storeu_ps(y + 16, _mm512_mul_ps(d, hi));
  }
}

AVX512 static void q4_0_avx512(const uint8_t *p, float *y, long n) {
  const __m512i mask = _mm512_set1_epi32(15), eight = _mm512_set1_epi32(8);
  for (long b = 0; b < n; b++, p += 18, y += 32) {
    __m512 d = half_broadcast(p);
    __m512i q = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(p + 2)));
    __m512 lo = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_and_si512(q, mask), eight));
    __m512 hi = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_srli_epi32(q, 4), eight));
    _mm512_storeu_ps(y, _mm512_mul_ps(d, lo));
    _mm512_storeu_ps(y + 16, _mm512_mul_ps(d, hi));
  }
}

AVX512 static void q4_1_avx512(const uint8_t *p, float *y, long n) {
  const __m512i mask = _mm512_set1_epi32(15);
  for (long b = 0; b < n; b++, p += 20, y += 32) {
    __m512 d = half_broadcast(p);
    __m512 m = half_broadcast(p + 2);
    __m512i q = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(p + 4)));
    __m512 lo = _mm512_cvtepi32_ps(_mm512_and_si512(q, mask));
    __m512 hi = _mm512_cvtepi32_ps(_mm512_srli_epi32(q, 4));
    _mm512_storeu_ps(y, _mm512_add_ps(_mm512_mul_ps(d, lo), m));
    _mm512_storeu_ps(y + 16, _mm512_add_ps(_mm512_mul_ps(d, hi), m));
  }
}

void seesaw_dequantize_q8_0(const void *src, float *dst, long num_blocks) {
  const uint8_t *p = (const uint8_t *)src;
  if (has_avx512()) return q8_0_avx512(p, dst, num_blocks);
  for (long b = 0; b < num_blocks; b++, p += 34, dst += 32) {
    float d = half_to_float(load_u16(p));
    for (int j = 0; j < 32; j++) dst[j] = d * (float)(int8_t)p[2 + j];
  }
}

void seesaw_dequantize_q4_0(const void *src, float *dst, long num_blocks) {
  const uint8_t *p = (const uint8_t *)src;
  if (has_avx512()) return q4_0_avx512(p, dst, num_blocks);
  for (long b = 0; b < num_blocks; b++, p += 18, dst += 32) {
    float d = half_to_float(load_u16(p));
    for (int j = 0; j < 16; j++) {
      dst[j] = d * (float)((p[2 + j] & 15) - 8);
      dst[j + 16] = d * (float)((p[2 + j] >> 4) - 8);
    }
  }
}

void seesaw_dequantize_q4_1(const void *src, float *dst, long num_blocks) {
  const uint8_t *p = (const uint8_t *)src;
  if (has_avx512()) return q4_1_avx512(p, dst, num_blocks);
  for (long b = 0; b < num_blocks; b++, p += 20, dst += 32) {
    float d = half_to_float(load_u16(p)), m = half_to_float(load_u16(p + 2));
    for (int j = 0; j < 16; j++) {
      float lo = d * (float)(p[4 + j] & 15), hi = d * (float)(p[4 + j] >> 4);
      dst[j] = lo + m;
      dst[j + 16] = hi + m;
    }
  }
}
