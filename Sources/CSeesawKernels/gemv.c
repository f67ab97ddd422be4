#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "f16_table.h"
#include "gemv_kquants.h"
#include "kquants.h"
#include "q4_values.h"
#include "row_mr.h"
#include "seesaw_gemm.h"

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,f16c,fma")))

// Weights stream from memory once per product: each row is prefetched 2 KiB ahead of the block being dequantized
// (decode at batch 1 on a 0.65 GB Q4_0 model: 9.8 -> 15.4 GB/s on two threads).
//
// Each ggml block of 32 weights is dequantized into two registers (elements 0..15 and 16..31) exactly as ggml's
// reference does (d * q, then + m: a multiply and an add, never fused), then multiplied into up to four rows of x;
// at batch 1, Q4_1 and Q8_0 save an instruction per block instead (see step_q4_1_fused, step_q8_0_scaled).

// An f16 scale in all lanes: one broadcast load from the f16 table (see f16_table.h).
AVX512 static inline __m512 half_at(const uint8_t *p) { return _mm512_set1_ps(f16_at(p)); }

AVX512 static inline void deq_q8_0(const uint8_t *p, __m512 *lo, __m512 *hi) {
  __m512 d = half_at(p);
  *lo = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p + 2)))));
  *hi = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p + 18)))));
}

// 4-bit blocks: each weight picked from its block's 16 values (q4_values.h) by vpermps.
AVX512 static inline void deq_q4_0(const uint8_t *p, __m512 *lo, __m512 *hi) { q4_0_block(p, lo, hi); }

AVX512 static inline void deq_q4_1(const uint8_t *p, __m512 *lo, __m512 *hi) { q4_1_block(p, lo, hi); }

AVX512 static inline void deq_f32(const uint8_t *p, __m512 *lo, __m512 *hi) {
  *lo = _mm512_loadu_ps((const float *)p);
  *hi = _mm512_loadu_ps((const float *)p + 16);
}

AVX512 static inline void deq_f16(const uint8_t *p, __m512 *lo, __m512 *hi) {
  *lo = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
  *hi = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p + 32)));
}

AVX512 static inline __m512 bf16_to_f32(__m256i h) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

AVX512 static inline void deq_bf16(const uint8_t *p, __m512 *lo, __m512 *hi) {
  *lo = bf16_to_f32(_mm256_loadu_si256((const __m256i *)p));
  *hi = bf16_to_f32(_mm256_loadu_si256((const __m256i *)(p + 32)));
}

AVX512 static inline float hsum(__m512 v) { return _mm512_reduce_add_ps(v); }

// One weight row against MR rows of x (stride k), whole 32-element blocks of `block_bytes` each, then a tail of
// `tail` elements (float formats only) dequantized element by element.
#define GEMV(NAME, BLOCK_BYTES, DEQ)                                                                               \
  AVX512 __attribute__((always_inline)) static inline void row_##NAME##_mr(const uint8_t *w, const float *x,    \
                                                                          long k, const int mr, float *out,     \
                                                                          long ldy) {                           \
    __m512 acc[4][2];                                                                                           \
    for (int i = 0; i < 4; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();                                     \
    long blocks = k / 32;                                                                                       \
    for (long b = 0; b < blocks; b++) {                                                                         \
      __m512 lo, hi;                                                                                            \
      _mm_prefetch((const char *)(w + b * (BLOCK_BYTES)) + 2048, _MM_HINT_T0);                                       \
      DEQ(w + b * (BLOCK_BYTES), &lo, &hi);                                                                     \
      const float *xb = x + b * 32;                                                                             \
      for (int i = 0; i < mr; i++) {                                                                            \
        acc[i][0] = _mm512_fmadd_ps(_mm512_loadu_ps(xb + i * k), lo, acc[i][0]);                                \
        acc[i][1] = _mm512_fmadd_ps(_mm512_loadu_ps(xb + i * k + 16), hi, acc[i][1]);                           \
      }                                                                                                         \
    }                                                                                                           \
    for (int i = 0; i < mr; i++) out[i * ldy] = hsum(_mm512_add_ps(acc[i][0], acc[i][1]));                       \
  }                                                                                                             \
  /* mr as a constant, so that the accumulators live in registers */                                           \
  ROW_MR_DISPATCH(AVX512, NAME)

// Four weight rows against one row of x (decode at batch 1): the rows' blocks interleave, so each accumulator waits
// for its FMA once per four blocks instead of once per block (one row alone is bound by the FMA latency, not by the
// dequantization), and the four sums leave through one transposing reduction instead of four horizontal sums. Each
// row prefetches the block two groups below it: 2 KiB ahead in its own row (as above) fetched what the other three
// rows were reading anyway, and Q8_0 from memory fell from 18-19 to 15 GB/s on one thread. Into L2, not L1
// (prefetcht1): on the Zen 4 host, 49152 x 576 from memory on one thread, BF16 10.5-11.3 -> 23.4-34.5 GB/s and Q8_0
// 8.1-12.6 -> 17.1-19.1; on two, 17.7-24.3 -> 31-49 and 22.6-28.1 -> 42.6-44.9. Kernels whose prefetch runs
// ahead in the row being read keep prefetcht0: with t1, GEMV above (2 KiB ahead) fell from 110-120 to 94 GFLOP/s on
// BF16 at 4 rows of x, and the digits kernel (its interleaved copy is one stream) from 21.4-30.3 to 15.8-21.4 GB/s on
// Q8_0 at one thread.
#define GEMV4(NAME, BLOCK_BYTES, STEP)                                                                             \
  AVX512 static void rows4_##NAME(const uint8_t *w, long row_bytes, const float *x, long k, float *out) {        \
    __m512 acc[4][2];                                                                                           \
    for (int r = 0; r < 4; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();                                     \
    long blocks = k / 32;                                                                                       \
    for (long b = 0; b < blocks; b++) {                                                                         \
      __m512 xlo = _mm512_loadu_ps(x + b * 32), xhi = _mm512_loadu_ps(x + b * 32 + 16);                          \
      for (int r = 0; r < 4; r++) {                                                                             \
        const uint8_t *p = w + r * row_bytes + b * (BLOCK_BYTES);                                               \
        _mm_prefetch((const char *)p + 8 * row_bytes, _MM_HINT_T1); /* two groups of rows ahead */              \
        STEP(p, xlo, xhi, acc[r]);                                                                              \
      }                                                                                                         \
    }                                                                                                           \
    store_row_sums4(out, acc);                                                                                  \
  }

// One block of one row at batch 1: acc[0] += x[0..15] * w[0..15], acc[1] += x[16..31] * w[16..31].
#define DEQ_STEP(NAME, DEQ)                                                                                        \
  AVX512 static inline void step_##NAME(const uint8_t *p, __m512 xlo, __m512 xhi, __m512 acc[2]) {               \
    __m512 lo, hi;                                                                                              \
    DEQ(p, &lo, &hi);                                                                                           \
    acc[0] = _mm512_fmadd_ps(xlo, lo, acc[0]);                                                                  \
    acc[1] = _mm512_fmadd_ps(xhi, hi, acc[1]);                                                                  \
  }

// At batch 1 each block is built for one row of x only, so there the kernels are bound by their vector
// instructions on ports 0 and 5, and two formats take one fewer per block and row than their exact dequantization:
// Q4_1 builds its 16 values d * i + m with one FMA (one rounding, not ggml's two), and Q8_0 scales the block's dot
// product by d instead of each weight (d * sum(q * x) instead of sum((d * q) * x)). Both move a sum by rounding only.
AVX512 static inline void deq_q4_1_fused(const uint8_t *p, __m512 *lo, __m512 *hi) {
  q4_pick(_mm512_fmadd_ps(half_at(p), q4_nibbles(), half_at(p + 2)), p + 4, lo, hi);
}

// The block's dot product with x, then one multiply by d into the row's sum (acc[1] stays zero: four rows apart,
// one accumulator per row outlasts the FMA latency).
AVX512 static inline void step_q8_0_scaled(const uint8_t *p, __m512 xlo, __m512 xhi, __m512 acc[2]) {
  __m512 lo = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p + 2))));
  __m512 hi = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p + 18))));
  acc[0] = _mm512_fmadd_ps(_mm512_fmadd_ps(xhi, hi, _mm512_mul_ps(xlo, lo)), half_at(p), acc[0]);
}

#define KERNELS(NAME, BLOCK_BYTES, DEQ)                                                                            \
  GEMV(NAME, BLOCK_BYTES, DEQ) DEQ_STEP(NAME, DEQ) GEMV4(NAME, BLOCK_BYTES, step_##NAME)
GEMV(q8_0, 34, deq_q8_0)
GEMV4(q8_0, 34, step_q8_0_scaled)
KERNELS(q4_0, 18, deq_q4_0)
GEMV(q4_1, 20, deq_q4_1)
DEQ_STEP(q4_1_fused, deq_q4_1_fused)
GEMV4(q4_1, 20, step_q4_1_fused)
KERNELS(f32, 128, deq_f32)
KERNELS(f16, 64, deq_f16)
KERNELS(bf16, 64, deq_bf16)

AVX512 static float element(int dtype, const uint8_t *w, long t) {
  uint16_t h;
  switch (dtype) {
  case 0: {
    float f;
    memcpy(&f, w + 4 * t, 4);
    return f;
  }
  case 1:
    memcpy(&h, w + 2 * t, 2);
    return _cvtsh_ss(h);
  default: {
    memcpy(&h, w + 2 * t, 2);
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
  }
  }
}

AVX512 static void gemv_avx512(int dtype, const uint8_t *w, long row_bytes, long rows, const float *x, long k,
                               long m, float *y, long ldy) {
  long whole = k / 32 * 32, r0 = 0;
  if (m == 1 && whole == k) {  // batch 1: four rows at a time
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
      default: row_q4_1(wr, xi, k, mr, out, ldy); break;
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

// gemv_avx2.c: every format on AVX2 CPUs without AVX-512.
int seesaw_gemv_avx2_available(int dtype);
void seesaw_gemv_avx2(int dtype, const uint8_t *w, long row_bytes, long rows, const float *x, long k, long m,
                      float *y, long ldy);

int seesaw_gemv_available(int dtype) { return seesaw_gemm_available() || seesaw_gemv_avx2_available(dtype); }

void seesaw_gemv(int dtype, const void *w, long row_bytes, long rows, const float *x, long k, long m, float *y,
                 long ldy) {
  // Callers check seesaw_gemv_available(dtype) first; there is no portable path here.
  if (!seesaw_gemm_available()) return seesaw_gemv_avx2(dtype, (const uint8_t *)w, row_bytes, rows, x, k, m, y, ldy);
  if (dtype >= 6) return seesaw_gemv_kquant(dtype, (const uint8_t *)w, row_bytes, rows, x, k, m, y, ldy);
  gemv_avx512(dtype, (const uint8_t *)w, row_bytes, rows, x, k, m, y, ldy);
}
