#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "avx2_blocks.h"
#include "f16_table.h"
#include "kquants.h"
#include "q4_values.h"
#include "seesaw_kernels.h"

static float bf16_to_float(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
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

// ---- AVX-512 ------------------------------------------------------------------------------------------------------

#define AVX512 __attribute__((target("avx512f,avx512bw,f16c")))
// The weights of a product of 8 rows of x or more are dequantized a few rows at a time between stretches of
// multiplies, so the hardware prefetcher restarts on every stretch: each block asks for the line 1 KiB ahead itself
// (SmolLM2 Q4_1, decode of 64 sequences on one thread, four alternations: 138-153 vs 152-180 ms a step without; the
// TinyLlama-shaped Q4_K_M and SmolLM2 BF16 within noise either way).
#define PREFETCH_AHEAD 1024

// An f16 scale as 16 f32 lanes: one broadcast load from the f16 table (see f16_table.h).
AVX512 static inline __m512 half_broadcast(const uint8_t *p) { return _mm512_set1_ps(f16_at(p)); }

AVX512 static void q8_0_avx512(const uint8_t *p, float *y, long n) {
  for (long b = 0; b < n; b++, p += 34, y += 32) {
    _mm_prefetch((const char *)p + PREFETCH_AHEAD, _MM_HINT_T0);
    __m512 d = half_broadcast(p);
    __m512 lo = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p + 2))));
    __m512 hi = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p + 18))));
    _mm512_storeu_ps(y, _mm512_mul_ps(d, lo));
    _mm512_storeu_ps(y + 16, _mm512_mul_ps(d, hi));
  }
}

// 4-bit blocks: each weight picked from its block's 16 values (q4_values.h) by vpermps, 5-6 vector instructions per
// block instead of 9 (mask, shift, two subtractions or additions, two conversions, two multiplies). In a decode step of
// 16 sequences each dequantized weight meets one FMA instruction (16 tokens wide), so these count: `seesaw bench
// dequantize --k 1024`, 57-61 vs 49-50 GB/s written.
AVX512 static void q4_0_avx512(const uint8_t *p, float *y, long n) {
  for (long b = 0; b < n; b++, p += 18, y += 32) {
    _mm_prefetch((const char *)p + PREFETCH_AHEAD, _MM_HINT_T0);
    __m512 lo, hi;
    q4_0_block(p, &lo, &hi);
    _mm512_storeu_ps(y, lo);
    _mm512_storeu_ps(y + 16, hi);
  }
}

AVX512 static void q4_1_avx512(const uint8_t *p, float *y, long n) {
  for (long b = 0; b < n; b++, p += 20, y += 32) {
    _mm_prefetch((const char *)p + PREFETCH_AHEAD, _MM_HINT_T0);
    __m512 lo, hi;
    q4_1_block(p, &lo, &hi);
    _mm512_storeu_ps(y, lo);
    _mm512_storeu_ps(y + 16, hi);
  }
}

// Q4_K and Q6_K: the super-blocks unpacked by kquants.h, which the gemv kernels share (same operations, same bits).
AVX512 static void q4_K_avx512(const uint8_t *p, float *y, long n) {
  for (long b = 0; b < n; b++, p += 144, y += 256) {
    for (int line = 0; line < 144; line += 64) _mm_prefetch((const char *)p + PREFETCH_AHEAD + line, _MM_HINT_T0);
    float ds[8], ms[8];  // d * sc[j], dmin * m[j]
    q4_K_prepare(p, ds, ms);
    for (int g = 0; g < 4; g++) {
      __m512 w[4];
      q4_K_unit(p, ds, ms, g, 0, w);
      for (int v = 0; v < 4; v++) _mm512_storeu_ps(y + 64 * g + 16 * v, w[v]);
    }
  }
}

// Each run of 16 outputs shares one scale: x = (d * scales[i]) * (q - 32).
AVX512 static void q6_K_avx512(const uint8_t *p, float *y, long n) {
  for (long b = 0; b < n; b++, p += 210, y += 256) {
    for (int line = 0; line < 210; line += 64) _mm_prefetch((const char *)p + PREFETCH_AHEAD + line, _MM_HINT_T0);
    float ds[16];
    int8_t q[256];
    q6_K_prepare(p, ds, q);
    for (int i = 0; i < 16; i++) _mm512_storeu_ps(y + 16 * i, q6_K_vector(ds, q, i));
  }
}

// F16 and BF16 convert 16 elements per instruction, as fast as the stores go, and a 64-byte store that straddles two
// cache lines costs about twice as much (the matmul's tile buffer has no particular alignment): one unaligned vector
// at the start, then stores from the first 64-byte boundary on, then one unaligned vector ending at n. The overlaps
// write the same values again.
AVX512 __attribute__((always_inline)) static inline void convert_16bit_row(
    const uint8_t *p, float *y, long n, __m512 (*convert)(const uint8_t *), float (*scalar)(uint16_t)) {
  if (n < 16) {
    for (long i = 0; i < n; i++) y[i] = scalar(load_u16(p + 2 * i));
    return;
  }
  _mm512_storeu_ps(y, convert(p));
  long i = ((uintptr_t)y & 3) ? 16 : (long)((-(uintptr_t)y & 63) / 4);
#pragma clang loop unroll_count(4)
  for (; i + 16 <= n; i += 16) {
    _mm_prefetch((const char *)p + 2 * i + PREFETCH_AHEAD, _MM_HINT_T0);
    _mm512_storeu_ps(y + i, convert(p + 2 * i));
  }
  if (i < n) _mm512_storeu_ps(y + n - 16, convert(p + 2 * (n - 16)));
}

AVX512 static inline __m512 f16_16(const uint8_t *p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}

AVX512 static inline __m512 bf16_16(const uint8_t *p) {
  __m512i bits = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(bits, 16));
}

AVX512 static void f16_avx512(const uint8_t *p, float *y, long n) {
  convert_16bit_row(p, y, n, f16_16, seesaw_half_to_float);
}

AVX512 static void bf16_avx512(const uint8_t *p, float *y, long n) {
  convert_16bit_row(p, y, n, bf16_16, bf16_to_float);
}

// ---- Scalar (ggml's reference loops) ------------------------------------------------------------------------------

static void q8_0_scalar(const uint8_t *p, float *y, long n) {
  for (long b = 0; b < n; b++, p += 34, y += 32) {
    float d = seesaw_half_to_float(load_u16(p));
    for (int j = 0; j < 32; j++) y[j] = d * (float)(int8_t)p[2 + j];
  }
}

static void q4_0_scalar(const uint8_t *p, float *y, long n) {
  for (long b = 0; b < n; b++, p += 18, y += 32) {
    float d = seesaw_half_to_float(load_u16(p));
    for (int j = 0; j < 16; j++) {
      y[j] = d * (float)((p[2 + j] & 15) - 8);
      y[j + 16] = d * (float)((p[2 + j] >> 4) - 8);
    }
  }
}

static void q4_1_scalar(const uint8_t *p, float *y, long n) {
  for (long b = 0; b < n; b++, p += 20, y += 32) {
    float d = seesaw_half_to_float(load_u16(p)), m = seesaw_half_to_float(load_u16(p + 2));
    for (int j = 0; j < 16; j++) {
      float lo = d * (float)(p[4 + j] & 15), hi = d * (float)(p[4 + j] >> 4);
      y[j] = lo + m;
      y[j + 16] = hi + m;
    }
  }
}

static void q4_K_scalar(const uint8_t *p, float *y, long n) {
  for (long b = 0; b < n; b++, p += 144, y += 256) {
    float d = seesaw_half_to_float(load_u16(p)), dmin = seesaw_half_to_float(load_u16(p + 2));
    uint8_t sc[8], m[8];
    q4_K_scales(p + 4, sc, m);
    for (int g = 0; g < 4; g++) {
      const uint8_t *q = p + 16 + 32 * g;
      float *out = y + 64 * g;
      float d1 = d * sc[2 * g], m1 = dmin * m[2 * g], d2 = d * sc[2 * g + 1], m2 = dmin * m[2 * g + 1];
      for (int l = 0; l < 32; l++) {
        out[l] = d1 * (float)(q[l] & 0xF) - m1;
        out[l + 32] = d2 * (float)(q[l] >> 4) - m2;
      }
    }
  }
}

static void q6_K_scalar(const uint8_t *p, float *y, long n) {
  for (long b = 0; b < n; b++, p += 210, y += 256) {
    float d = seesaw_half_to_float(load_u16(p + 208));
    for (int half = 0; half < 2; half++) {
      const uint8_t *ql = p + 64 * half, *qh = p + 128 + 32 * half;
      const int8_t *sc = (const int8_t *)(p + 192 + 8 * half);
      float *out = y + 128 * half;
      for (int l = 0; l < 32; l++) {
        int s = l / 16;
        int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        out[l] = d * sc[s] * q1;
        out[l + 32] = d * sc[s + 2] * q2;
        out[l + 64] = d * sc[s + 4] * q3;
        out[l + 96] = d * sc[s + 6] * q4;
      }
    }
  }
}

static void f16_scalar(const uint8_t *p, float *y, long n) {
  for (long i = 0; i < n; i++) y[i] = seesaw_half_to_float(load_u16(p + 2 * i));
}

static void bf16_scalar(const uint8_t *p, float *y, long n) {
  for (long i = 0; i < n; i++) y[i] = bf16_to_float(load_u16(p + 2 * i));
}

// ---- AVX2 (CPUs without AVX-512) --------------------------------------------------------------------------------

// Whole blocks of 32 through avx2_blocks.h; F16 and BF16 (n counts values) finish a partial block value by value.
#define DEQUANTIZE_AVX2(NAME, BLOCK_BYTES, PER_VALUE)                                                              \
  AVX2 static void NAME##_avx2(const uint8_t *p, float *y, long n) {                                              \
    long blocks = PER_VALUE ? n / 32 : n;                                                                         \
    for (long b = 0; b < blocks; b++, p += (BLOCK_BYTES), y += 32) {                                              \
      _mm_prefetch((const char *)p + PREFETCH_AHEAD, _MM_HINT_T0);                                                \
      __m256 v[4];                                                                                                \
      deq_##NAME(p, v);                                                                                           \
      for (int j = 0; j < 4; j++) _mm256_storeu_ps(y + 8 * j, v[j]);                                              \
    }                                                                                                             \
    if (PER_VALUE) NAME##_scalar(p, y, n - blocks * 32);                                                          \
  }

// K-quant super-blocks, eight units of 32 each.
#define DEQUANTIZE_KQ_AVX2(NAME, BLOCK_BYTES)                                                                      \
  AVX2 static void NAME##_avx2(const uint8_t *p, float *y, long n) {                                              \
    kq_state s;                                                                                                   \
    for (long b = 0; b < n; b++, p += (BLOCK_BYTES), y += 256) {                                                  \
      _mm_prefetch((const char *)p + PREFETCH_AHEAD, _MM_HINT_T0);                                                \
      NAME##_prepare_avx2(p, &s);                                                                                 \
      for (int j = 0; j < 8; j++) {                                                                               \
        __m256 v[4];                                                                                              \
        NAME##_unit_avx2(p, &s, j, v);                                                                            \
        for (int i = 0; i < 4; i++) _mm256_storeu_ps(y + 32 * j + 8 * i, v[i]);                                   \
      }                                                                                                           \
    }                                                                                                             \
  }

DEQUANTIZE_KQ_AVX2(q4_K, 144)
DEQUANTIZE_KQ_AVX2(q6_K, 210)
DEQUANTIZE_AVX2(q8_0, 34, 0)
DEQUANTIZE_AVX2(q4_0, 18, 0)
DEQUANTIZE_AVX2(q4_1, 20, 0)
DEQUANTIZE_AVX2(f16, 64, 1)
DEQUANTIZE_AVX2(bf16, 64, 1)

// ---- Entry points -------------------------------------------------------------------------------------------------

#define DEQUANTIZE(name)                                                     \
  void seesaw_dequantize_##name(const void *src, float *dst, long n) {       \
    if (has_avx512()) return name##_avx512((const uint8_t *)src, dst, n);    \
    if (seesaw_has_avx2()) return name##_avx2((const uint8_t *)src, dst, n); \
    name##_scalar((const uint8_t *)src, dst, n);                             \
  }

DEQUANTIZE(q8_0)
DEQUANTIZE(q4_0)
DEQUANTIZE(q4_1)
DEQUANTIZE(q4_K)
DEQUANTIZE(q6_K)
DEQUANTIZE(f16)
DEQUANTIZE(bf16)

int seesaw_dequantize_scalar(unsigned ggml_type, const void *src, float *dst, long n) {
  const uint8_t *p = (const uint8_t *)src;
  switch (ggml_type) {
    case 1: f16_scalar(p, dst, n); return 0;
    case 2: q4_0_scalar(p, dst, n); return 0;
    case 3: q4_1_scalar(p, dst, n); return 0;
    case 8: q8_0_scalar(p, dst, n); return 0;
    case 12: q4_K_scalar(p, dst, n); return 0;
    case 14: q6_K_scalar(p, dst, n); return 0;
    case 30: bf16_scalar(p, dst, n); return 0;
    default: return -1;
  }
}
