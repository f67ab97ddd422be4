#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "avx2_blocks.h"
#include "row_mr.h"
#include "seesaw_gemm.h"

// seesaw_gemv for CPUs with AVX2, FMA and F16C but not AVX-512 (AMD Zen 2 and 3, Intel before Skylake-SP and the
// client cores): every format of seesaw_gemv, eight lanes to a register. Each block of 32 weights is dequantized
// into four registers (avx2_blocks.h) and multiplied into up to four rows of x, or, at batch 1, four weight rows
// into one row of x.

int seesaw_gemv_avx2_available(int dtype) { return dtype >= 0 && dtype <= 7 && seesaw_has_avx2(); }

// acc[0] += w[0] x[0..7] + w[2] x[16..23], acc[1] += w[1] x[8..15] + w[3] x[24..31]: two chains per row.
AVX2 static inline void fma_block(const float *x, const __m256 w[4], __m256 acc[2]) {
  acc[0] = _mm256_fmadd_ps(_mm256_loadu_ps(x), w[0], acc[0]);
  acc[1] = _mm256_fmadd_ps(_mm256_loadu_ps(x + 8), w[1], acc[1]);
  acc[0] = _mm256_fmadd_ps(_mm256_loadu_ps(x + 16), w[2], acc[0]);
  acc[1] = _mm256_fmadd_ps(_mm256_loadu_ps(x + 24), w[3], acc[1]);
}

// One weight row against mr ≤ 4 rows of x (stride k), whole blocks; the row streams from memory, so its block
// 2 KiB ahead is prefetched.
#define GEMV_AVX2(NAME, BLOCK_BYTES, DEQ)                                                                          \
  AVX2 __attribute__((always_inline)) static inline void row_##NAME##_mr(const uint8_t *w, const float *x, long k, \
                                                                        const int mr, float *out, long ldy) {    \
    __m256 acc[4][2];                                                                                             \
    for (int i = 0; i < 4; i++) acc[i][0] = acc[i][1] = _mm256_setzero_ps();                                       \
    for (long b = 0; b < k / 32; b++) {                                                                           \
      __m256 v[4];                                                                                                \
      _mm_prefetch((const char *)(w + b * (BLOCK_BYTES)) + 2048, _MM_HINT_T0);                                     \
      DEQ(w + b * (BLOCK_BYTES), v);                                                                              \
      for (int i = 0; i < mr; i++) fma_block(x + i * k + b * 32, v, acc[i]);                                      \
    }                                                                                                             \
    for (int i = 0; i < mr; i++) out[i * ldy] = hsum8(_mm256_add_ps(acc[i][0], acc[i][1]));                        \
  }                                                                                                               \
  ROW_MR_DISPATCH(AVX2, NAME)

// Batch 1: four weight rows against one row of x, their blocks interleaved so that eight FMA chains outlast the
// latency; x is read again from L1 for each row. Each row prefetches the block two groups below it. STEP(p, x, xsum,
// acc) adds one block of one row (xsum: the block's x summed in 8 lanes, for Q4_1's offsets).
#define ROWS4_AVX2(NAME, BLOCK_BYTES, STEP)                                                                        \
  AVX2 static void rows4_##NAME(const uint8_t *w, long row_bytes, const float *x, long k, float *out) {          \
    __m256 acc[4][2];                                                                                             \
    for (int r = 0; r < 4; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();                                       \
    for (long b = 0; b < k / 32; b++) {                                                                           \
      const float *xb = x + b * 32;                                                                               \
      __m256 xsum = _mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(xb), _mm256_loadu_ps(xb + 8)),                    \
                                  _mm256_add_ps(_mm256_loadu_ps(xb + 16), _mm256_loadu_ps(xb + 24)));             \
      for (int r = 0; r < 4; r++) {                                                                               \
        const uint8_t *p = w + r * row_bytes + b * (BLOCK_BYTES);                                                 \
        _mm_prefetch((const char *)p + 8 * row_bytes, _MM_HINT_T1);                                               \
        STEP(p, xb, xsum, acc[r]);                                                                                \
      }                                                                                                           \
    }                                                                                                             \
    for (int r = 0; r < 4; r++) out[r] = hsum8(_mm256_add_ps(acc[r][0], acc[r][1]));                               \
  }

// One block of a float format: its weights dequantized, then four FMAs.
#define DEQ_STEP_AVX2(NAME, DEQ)                                                                                   \
  AVX2 static inline void step_##NAME(const uint8_t *p, const float *x, __m256 xsum, __m256 acc[2]) {            \
    (void)xsum;                                                                                                   \
    __m256 v[4];                                                                                                  \
    DEQ(p, v);                                                                                                    \
    fma_block(x, v, acc);                                                                                         \
  }

// At batch 1 each block is built for one row of x only and the kernels are bound by their vector instructions, so
// the integer formats scale the block's dot product with the integers instead of each weight: d * sum(q * x) (Q8_0,
// and Q4_0 with q - 8), d * sum(q * x) + m * sum(x) (Q4_1, sum(x) shared by the four rows). Four multiplies fewer
// per block and row; the sums move by rounding only.
AVX2 static inline __m256 dot4(const __m256 q[4], const float *x) {
  __m256 s = _mm256_mul_ps(_mm256_loadu_ps(x), q[0]);
  s = _mm256_fmadd_ps(_mm256_loadu_ps(x + 8), q[1], s);
  s = _mm256_fmadd_ps(_mm256_loadu_ps(x + 16), q[2], s);
  return _mm256_fmadd_ps(_mm256_loadu_ps(x + 24), q[3], s);
}

AVX2 static inline void step_q8_0_scaled(const uint8_t *p, const float *x, __m256 xsum, __m256 acc[2]) {
  (void)xsum;
  __m256 q[4];
  for (int j = 0; j < 4; j++) q[j] = bytes_ps(_mm_loadl_epi64((const __m128i *)(p + 2 + 8 * j)));
  acc[0] = _mm256_fmadd_ps(dot4(q, x), half_at8(p), acc[0]);
}

AVX2 static inline void step_q4_0_scaled(const uint8_t *p, const float *x, __m256 xsum, __m256 acc[2]) {
  (void)xsum;
  __m256 q[4];
  nibble_values(p + 2, 8, q);
  acc[0] = _mm256_fmadd_ps(dot4(q, x), half_at8(p), acc[0]);
}

AVX2 static inline void step_q4_1_scaled(const uint8_t *p, const float *x, __m256 xsum, __m256 acc[2]) {
  __m256 q[4];
  nibble_values(p + 4, 0, q);
  acc[0] = _mm256_fmadd_ps(dot4(q, x), half_at8(p), acc[0]);
  acc[1] = _mm256_fmadd_ps(xsum, half_at8(p + 2), acc[1]);
}

GEMV_AVX2(q8_0, 34, deq_q8_0)
GEMV_AVX2(q4_0, 18, deq_q4_0)
GEMV_AVX2(q4_1, 20, deq_q4_1)
GEMV_AVX2(f32, 128, deq_f32)
GEMV_AVX2(f16, 64, deq_f16)
GEMV_AVX2(bf16, 64, deq_bf16)
ROWS4_AVX2(q8_0, 34, step_q8_0_scaled)
ROWS4_AVX2(q4_0, 18, step_q4_0_scaled)
ROWS4_AVX2(q4_1, 20, step_q4_1_scaled)
DEQ_STEP_AVX2(f32, deq_f32)
DEQ_STEP_AVX2(f16, deq_f16)
DEQ_STEP_AVX2(bf16, deq_bf16)
ROWS4_AVX2(f32, 128, step_f32)
ROWS4_AVX2(f16, 64, step_f16)
ROWS4_AVX2(bf16, 64, step_bf16)

// K-quant rows (256-weight super-blocks unpacked once per row and super-block, then eight units of 32): against
// mr ≤ 4 rows of x, two FMA chains per row of x; at batch 1, four (units alternate between two pairs), so that one
// row's chains outlast the FMA latency.
#define GEMV_KQ_AVX2(NAME, BLOCK_BYTES)                                                                            \
  AVX2 __attribute__((always_inline)) static inline void row_##NAME##_mr(const uint8_t *w, const float *x, long k, \
                                                                        const int mr, float *out, long ldy) {    \
    __m256 acc[4][2][2];                                                                                          \
    for (int i = 0; i < 4; i++) acc[i][0][0] = acc[i][0][1] = acc[i][1][0] = acc[i][1][1] = _mm256_setzero_ps();   \
    kq_state s;                                                                                                   \
    for (long b = 0; b < k / 256; b++) {                                                                          \
      const uint8_t *p = w + b * (BLOCK_BYTES);                                                                   \
      _mm_prefetch((const char *)p + 2048, _MM_HINT_T0);                                                          \
      NAME##_prepare_avx2(p, &s);                                                                                 \
      for (int j = 0; j < 8; j++) {                                                                               \
        __m256 v[4];                                                                                              \
        NAME##_unit_avx2(p, &s, j, v);                                                                            \
        for (int i = 0; i < mr; i++) fma_block(x + i * k + b * 256 + 32 * j, v, acc[i][mr == 1 ? (j & 1) : 0]);  \
      }                                                                                                           \
    }                                                                                                             \
    for (int i = 0; i < mr; i++)                                                                                  \
      out[i * ldy] = hsum8(_mm256_add_ps(_mm256_add_ps(acc[i][0][0], acc[i][0][1]),                               \
                                         _mm256_add_ps(acc[i][1][0], acc[i][1][1])));                             \
  }                                                                                                               \
  ROW_MR_DISPATCH(AVX2, NAME)

GEMV_KQ_AVX2(q4_K, 144)
GEMV_KQ_AVX2(q6_K, 210)

// Batch 1, K-quants: four weight rows against one row of x, scaled as the integer formats above: d · sc · Σ q · x per
// unit of 32 (Q6_K: per run of 16) and, for Q4_K's offsets, − dmin · m · Σ x, which for a super-block's 8 units is one
// FMA against their sums of x (xs, 8 per super-block, computed once per call). Q4_K's nibbles widen as in nibbles8:
// one load and vpmovzxbd give 8 elements of unit 2u (mask) and 8 of unit 2u + 1 (shift). Values are never built, so
// a unit costs about half the instructions of d1 · q − m1 and a multiply per weight.
AVX2 static inline __m256 dot_nibbles(__m256i q0, __m256i q1, __m256i q2, __m256i q3, const float *x) {
  __m256 s = _mm256_mul_ps(_mm256_cvtepi32_ps(q0), _mm256_loadu_ps(x));
  s = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q1), _mm256_loadu_ps(x + 8), s);
  s = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q2), _mm256_loadu_ps(x + 16), s);
  return _mm256_fmadd_ps(_mm256_cvtepi32_ps(q3), _mm256_loadu_ps(x + 24), s);
}

AVX2 static inline void superblock_q4_K_scaled(const uint8_t *p, const float *x, __m256 xs, __m256 acc[2]) {
  uint64_t sc, mn;
  q4_K_scale_words(p + 4, &sc, &mn);
  float ds[8];
  __m256 scf = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)sc)));
  __m256 mf = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)mn)));
  _mm256_storeu_ps(ds, _mm256_mul_ps(half_at8(p), scf));
  acc[1] = _mm256_fnmadd_ps(_mm256_mul_ps(half_at8(p + 2), mf), xs, acc[1]);
  for (int u = 0; u < 4; u++) {
    const uint8_t *q = p + 16 + 32 * u;
    __m256i l[4], h[4];
    for (int i = 0; i < 4; i++) nibbles8(q + 8 * i, &l[i], &h[i]);
    __m256 lo = dot_nibbles(l[0], l[1], l[2], l[3], x + 64 * u);
    __m256 hi = dot_nibbles(h[0], h[1], h[2], h[3], x + 64 * u + 32);
    acc[0] = _mm256_fmadd_ps(_mm256_set1_ps(ds[2 * u]), lo, acc[0]);
    acc[1] = _mm256_fmadd_ps(_mm256_set1_ps(ds[2 * u + 1]), hi, acc[1]);
  }
}

AVX2 static inline __m256 dot_bytes16(const int8_t *q, const float *x) {
  __m256 s = _mm256_mul_ps(bytes_ps(_mm_loadl_epi64((const __m128i *)q)), _mm256_loadu_ps(x));
  return _mm256_fmadd_ps(bytes_ps(_mm_loadl_epi64((const __m128i *)(q + 8))), _mm256_loadu_ps(x + 8), s);
}

AVX2 static inline void superblock_q6_K_scaled(const uint8_t *p, const float *x, __m256 xs, __m256 acc[2]) {
  (void)xs;
  kq_state s;
  q6_K_prepare_avx2(p, &s);
  for (int i = 0; i < 16; i += 2) {
    acc[0] = _mm256_fmadd_ps(_mm256_set1_ps(s.ds[i]), dot_bytes16(s.q + 16 * i, x + 16 * i), acc[0]);
    acc[1] = _mm256_fmadd_ps(_mm256_set1_ps(s.ds[i + 1]), dot_bytes16(s.q + 16 * i + 16, x + 16 * i + 16), acc[1]);
  }
}

#define ROWS4_KQ_AVX2(NAME, BLOCK_BYTES)                                                                           \
  AVX2 static void rows4_##NAME(const uint8_t *w, long row_bytes, const float *x, const float *xs, long k,        \
                                float *out) {                                                                     \
    __m256 acc[4][2];                                                                                             \
    for (int r = 0; r < 4; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();                                       \
    for (long b = 0; b < k / 256; b++) {                                                                          \
      __m256 xsb = _mm256_loadu_ps(xs + 8 * b);                                                                   \
      _Pragma("clang loop unroll(full)") for (int r = 0; r < 4; r++) {                                            \
        const uint8_t *p = w + r * row_bytes + b * (BLOCK_BYTES);                                                 \
        for (int line = 0; line < (BLOCK_BYTES); line += 64)                                                      \
          _mm_prefetch((const char *)p + 8 * row_bytes + line, _MM_HINT_T1);                                      \
        superblock_##NAME##_scaled(p, x + 256 * b, xsb, acc[r]);                                                  \
      }                                                                                                           \
    }                                                                                                             \
    for (int r = 0; r < 4; r++) out[r] = hsum8(_mm256_add_ps(acc[r][0], acc[r][1]));                               \
  }

ROWS4_KQ_AVX2(q4_K, 144)
ROWS4_KQ_AVX2(q6_K, 210)

// Element t of a row of a float format (the tail past the last whole block of 32).
static float element(int dtype, const uint8_t *w, long t) {
  if (dtype == 0) {
    float f;
    memcpy(&f, w + 4 * t, 4);
    return f;
  }
  if (dtype == 1) return f16_at(w + 2 * t);
  uint16_t h;
  memcpy(&h, w + 2 * t, 2);
  uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

AVX2 void seesaw_gemv_avx2(int dtype, const uint8_t *w, long row_bytes, long rows, const float *x, long k, long m,
                           float *y, long ldy) {
  long whole = k / 32 * 32, r0 = 0;
  if (m == 1 && dtype >= 6) {  // K-quants: the sums of x per unit of 32, for Q4_K's offsets
    float xs[k / 32];
    for (long u = 0; u < k / 32; u++) {
      const float *xu = x + 32 * u;
      xs[u] = hsum8(_mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(xu), _mm256_loadu_ps(xu + 8)),
                                  _mm256_add_ps(_mm256_loadu_ps(xu + 16), _mm256_loadu_ps(xu + 24))));
    }
    for (; r0 + 4 <= rows; r0 += 4) {
      if (dtype == 6) rows4_q4_K(w + r0 * row_bytes, row_bytes, x, xs, k, y + r0);
      else rows4_q6_K(w + r0 * row_bytes, row_bytes, x, xs, k, y + r0);
    }
  }
  if (m == 1 && whole == k && dtype <= 5) {
    for (; r0 + 4 <= rows; r0 += 4) {
      const uint8_t *wr = w + r0 * row_bytes;
      switch (dtype) {
      case 0: rows4_f32(wr, row_bytes, x, k, y + r0); break;
      case 1: rows4_f16(wr, row_bytes, x, k, y + r0); break;
      case 2: rows4_bf16(wr, row_bytes, x, k, y + r0); break;
      case 3: rows4_q8_0(wr, row_bytes, x, k, y + r0); break;
      case 4: rows4_q4_0(wr, row_bytes, x, k, y + r0); break;
      default: rows4_q4_1(wr, row_bytes, x, k, y + r0); break;
      }
    }
  }
  for (long r = r0; r < rows; r++) {
    const uint8_t *wr = w + r * row_bytes;
    for (long i0 = 0; i0 < m; i0 += 4) {
      int mr = m - i0 < 4 ? (int)(m - i0) : 4;
      const float *xi = x + i0 * k;
      float *out = y + i0 * ldy + r;
      switch (dtype) {
      case 0: row_f32(wr, xi, k, mr, out, ldy); break;
      case 1: row_f16(wr, xi, k, mr, out, ldy); break;
      case 2: row_bf16(wr, xi, k, mr, out, ldy); break;
      case 3: row_q8_0(wr, xi, k, mr, out, ldy); break;
      case 4: row_q4_0(wr, xi, k, mr, out, ldy); break;
      case 5: row_q4_1(wr, xi, k, mr, out, ldy); break;
      case 6: row_q4_K(wr, xi, k, mr, out, ldy); break;
      default: row_q6_K(wr, xi, k, mr, out, ldy); break;
      }
      if (whole < k) {  // float formats: k need not be a multiple of 32
        for (int i = 0; i < mr; i++) {
          float s = 0;
          for (long t = whole; t < k; t++) s += xi[i * k + t] * element(dtype, wr, t);
          out[i * ldy] += s;
        }
      }
    }
  }
}
