#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "seesaw_gemm.h"

// The opt-in reduced-precision products. Both read the weights in their stored form, as the f32 kernels do:
// - int8 (llama.cpp's scheme): rows of x are quantized to int8 per block of 32 with one f32 scale (ggml's Q8_0),
//   and each 32-element block product is an integer dot product (VNNI vpdpbusd) scaled by d_w * d_x;
// - bf16: x and the dequantized weights are rounded to bf16 and multiplied pairwise with vdpbf16ps (f32 sums).

#define VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,f16c,fma")))
#define BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,f16c,fma")))

int seesaw_int8_available(void) {
  __builtin_cpu_init();
  return seesaw_gemm_available() && __builtin_cpu_supports("avx512vnni");
}

int seesaw_bf16_available(void) {
  __builtin_cpu_init();
  return seesaw_gemm_available() && __builtin_cpu_supports("avx512bf16");
}

__attribute__((target("f16c"))) static inline float half_value(const uint8_t *p) {
  uint16_t h;
  memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// ---- int8 -----------------------------------------------------------------------------------------------------

VNNI void seesaw_quantize_rows_q8(const float *x, long m, long k, int8_t *xq, float *xd, int32_t *xsum) {
  long blocks = k / 32;
  for (long i = 0; i < m; i++) {
    for (long b = 0; b < blocks; b++) {
      const float *v = x + i * k + b * 32;
      __m512 lo = _mm512_loadu_ps(v), hi = _mm512_loadu_ps(v + 16);
      float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(lo), _mm512_abs_ps(hi)));
      float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
      __m512 s = _mm512_set1_ps(id);
      // round to nearest (ties to even), as _mm512_cvtps_epi32 does; |q| ≤ 127
      __m512i qlo = _mm512_cvtps_epi32(_mm512_mul_ps(lo, s)), qhi = _mm512_cvtps_epi32(_mm512_mul_ps(hi, s));
      _mm_storeu_si128((__m128i *)(xq + i * k + b * 32), _mm512_cvtsepi32_epi8(qlo));
      _mm_storeu_si128((__m128i *)(xq + i * k + b * 32 + 16), _mm512_cvtsepi32_epi8(qhi));
      xd[i * blocks + b] = d;
      xsum[i * blocks + b] = _mm512_reduce_add_epi32(_mm512_add_epi32(qlo, qhi));
    }
  }
}

// The 32 weights of one block as unsigned bytes u (the product is then Σ u·q_x = Σ (w_q + offset)·q_x), with d,
// the unsigned offset and the block's additive term m (Q4_1).
VNNI static inline __m256i expand_block(int dtype, const uint8_t *p, float *d, float *m, int *offset) {
  if (dtype == 3) {  // q8_0: signed bytes, flipped to unsigned by +128
    *d = half_value(p);
    *m = 0;
    *offset = 128;
    return _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(p + 2)), _mm256_set1_epi8((char)0x80));
  }
  const uint8_t *q = p + (dtype == 4 ? 2 : 4);
  __m128i packed = _mm_loadu_si128((const __m128i *)q);
  __m128i low = _mm_and_si128(packed, _mm_set1_epi8(15));
  __m128i high = _mm_and_si128(_mm_srli_epi16(packed, 4), _mm_set1_epi8(15));
  *d = half_value(p);
  if (dtype == 4) {  // q4_0: w = d (q - 8)
    *m = 0;
    *offset = 8;
  } else {  // q4_1: w = d q + m
    *m = half_value(p + 2);
    *offset = 0;
  }
  return _mm256_inserti128_si256(_mm256_castsi128_si256(low), high, 1);
}

#define INT8_ROWS(MR)                                                                                              \
  VNNI static void int8_rows##MR(int dtype, const uint8_t *w, long block_bytes, const int8_t *xq, const float *xd, \
                                 const int32_t *xsum, long k, float *out, long ldy) {                             \
    long blocks = k / 32;                                                                                       \
    __m256 acc[MR];                                                                                             \
    float extra[MR];                                                                                            \
    for (int i = 0; i < MR; i++) {                                                                              \
      acc[i] = _mm256_setzero_ps();                                                                             \
      extra[i] = 0;                                                                                             \
    }                                                                                                           \
    for (long b = 0; b < blocks; b++) {                                                                         \
      float d, m;                                                                                               \
      int offset;                                                                                               \
      __m256i u = expand_block(dtype, w + b * block_bytes, &d, &m, &offset);                                    \
      for (int i = 0; i < MR; i++) {                                                                            \
        __m256i q = _mm256_loadu_si256((const __m256i *)(xq + i * k + b * 32));                                 \
        __m256i dot = _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, q);                                         \
        float dx = xd[i * blocks + b], scale = d * dx;                                                          \
        acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_set1_ps(scale), acc[i]);                       \
        extra[i] += (m * dx - scale * (float)offset) * (float)xsum[i * blocks + b];                             \
      }                                                                                                         \
    }                                                                                                           \
    for (int i = 0; i < MR; i++) {                                                                              \
      __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc[i]), _mm256_extractf128_ps(acc[i], 1));                  \
      s = _mm_add_ps(s, _mm_movehl_ps(s, s));                                                                   \
      s = _mm_add_ss(s, _mm_movehdup_ps(s));                                                                    \
      out[i * ldy] = _mm_cvtss_f32(s) + extra[i];                                                               \
    }                                                                                                           \
  }

INT8_ROWS(4)
INT8_ROWS(1)

void seesaw_gemv_int8(int dtype, const void *w, long row_bytes, long rows, const int8_t *xq, const float *xd,
                      const int32_t *xsum, long k, long m, float *y, long ldy) {
  long block_bytes = dtype == 3 ? 34 : dtype == 4 ? 18 : 20, blocks = k / 32;
  for (long r = 0; r < rows; r++) {
    const uint8_t *wr = (const uint8_t *)w + r * row_bytes;
    long i = 0;
    for (; i + 4 <= m; i += 4)
      int8_rows4(dtype, wr, block_bytes, xq + i * k, xd + i * blocks, xsum + i * blocks, k, y + i * ldy + r, ldy);
    for (; i < m; i++)
      int8_rows1(dtype, wr, block_bytes, xq + i * k, xd + i * blocks, xsum + i * blocks, k, y + i * ldy + r, ldy);
  }
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
    __m512 d = _mm512_set1_ps(half_value(p));
    lo = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p + 2)))));
    hi = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p + 18)))));
    break;
  }
  case 4: {
    __m512 d = _mm512_set1_ps(half_value(p));
    __m512i q = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(p + 2))), eight = _mm512_set1_epi32(8);
    lo = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_and_si512(q, _mm512_set1_epi32(15)), eight)));
    hi = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_srli_epi32(q, 4), eight)));
    break;
  }
  default: {
    __m512 d = _mm512_set1_ps(half_value(p)), m = _mm512_set1_ps(half_value(p + 2));
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
    for (int i = 0; i < MR; i++) {                                                                              \
      float *ci = c + i * ldc;                                                                                  \
      if (accumulate) {                                                                                         \
        acc[i][0] = _mm512_add_ps(acc[i][0], _mm512_maskz_loadu_ps(m0, ci));                                    \
        acc[i][1] = _mm512_add_ps(acc[i][1], _mm512_maskz_loadu_ps(m1, ci + 16));                               \
      }                                                                                                         \
      _mm512_mask_storeu_ps(ci, m0, acc[i][0]);                                                                 \
      _mm512_mask_storeu_ps(ci + 16, m1, acc[i][1]);                                                            \
    }                                                                                                           \
  }

BF16_TILE(8)
BF16_TILE(1)

void seesaw_gemm_panel_bf16(const uint16_t *a, long lda, const uint16_t *panel, long k, float *c, long ldc, long m,
                            long n, int accumulate) {
  __mmask16 m0 = n >= 16 ? 0xffff : (__mmask16)((1u << n) - 1);
  __mmask16 m1 = n >= 32 ? 0xffff : n > 16 ? (__mmask16)((1u << (n - 16)) - 1) : 0;
  long i = 0;
  for (; i + 8 <= m; i += 8) bf16_tile8(a + i * lda, lda, panel, k, c + i * ldc, ldc, m0, m1, accumulate);
  for (; i < m; i++) bf16_tile1(a + i * lda, lda, panel, k, c + i * ldc, ldc, m0, m1, accumulate);
}
