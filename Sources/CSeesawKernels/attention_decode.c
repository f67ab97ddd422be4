#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include "attention_rows.h"
#include "seesaw_attention.h"
#include "seesaw_gemm.h"

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))

// A decode token has one query per head, so the tile kernel's 16 query lanes (PagedAttention+Tile.swift) hold only
// the heads of one KV group: 3 of 16 for SmolLM2, whose decode then did ~100 vector instructions per key (scores
// for 16 lanes, one 16-wide exponential per key) and read K/V at 14 GB/s where the machine streams 21-25. Here the
// keys are the lanes instead: per head, 16 keys' dot products are 16 vectors of partial sums that one transposing
// reduction turns into the 16 scores, and the softmax takes one exponential per head and 16 keys (the heads'
// rescales share one more, and l is summed lane by lane until the end).

// attention_decode_avx2.c: the same kernel on AVX2 CPUs without AVX-512 (seesaw_attention_decode_avx2 in the header).
int seesaw_attention_decode_avx2_available(long head_dim);

int seesaw_attention_decode_available(long head_dim) {
  if (!seesaw_gemm_available()) return seesaw_attention_decode_avx2_available(head_dim);
  return head_dim == 64 || head_dim == 128;
}

AVX512 static inline __m512 load16(const char *row, long i, int bf16) {
  if (bf16) {
    __m256i h = _mm256_loadu_si256((const __m256i *)(row + 2 * i));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  return _mm512_loadu_ps((const float *)row + i);
}

// VectorMath.exp2 (Cephes' exp2f polynomial) with the same operations in the same order.
AVX512 static inline __m512 exp2v(__m512 x) {
  x = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_set1_ps(-127), _CMP_LT_OQ), x, _mm512_set1_ps(-127));
  const __m512 shifter = _mm512_set1_ps(12582912.0f);
  __m512 t = _mm512_add_ps(x, shifter);
  __m512 f = _mm512_sub_ps(x, _mm512_sub_ps(t, shifter));
  __m512 p = _mm512_set1_ps(1.535336188319500e-4f);
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.339887440266574e-3f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.618437357674640e-3f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.550332471162809e-2f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.402264791363012e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.931472028550421e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
  __m512i bits = _mm512_slli_epi32(_mm512_add_epi32(_mm512_castps_si512(t), _mm512_set1_epi32(127)), 23);
  return _mm512_mul_ps(p, _mm512_castsi512_ps(bits));
}

// Lane t of the result = the sum of v[t]'s 16 lanes, in 45 shuffles and adds (16 horizontal sums: ~130).
AVX512 static inline __m512 reduce16(const __m512 v[16]) {
  // Per 128-bit block: [a0+a2, b0+b2, a1+a3, b1+b3] for a = v[2i], b = v[2i+1].
  __m512 x[8];
  for (int i = 0; i < 8; i++)
    x[i] = _mm512_add_ps(_mm512_unpacklo_ps(v[2 * i], v[2 * i + 1]), _mm512_unpackhi_ps(v[2 * i], v[2 * i + 1]));
  // Per 128-bit block: one partial sum of each of v[4j..4j+3].
  __m512 y[4];
  for (int j = 0; j < 4; j++) {
    __m512d a = _mm512_castps_pd(x[2 * j]), b = _mm512_castps_pd(x[2 * j + 1]);
    y[j] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(a, b)), _mm512_castpd_ps(_mm512_unpackhi_pd(a, b)));
  }
  // Block j of the result = the four blocks of y[j] added.
  __m512 s01 = _mm512_add_ps(_mm512_shuffle_f32x4(y[0], y[1], 0x44), _mm512_shuffle_f32x4(y[0], y[1], 0xEE));
  __m512 s23 = _mm512_add_ps(_mm512_shuffle_f32x4(y[2], y[3], 0x44), _mm512_shuffle_f32x4(y[2], y[3], 0xEE));
  return _mm512_add_ps(_mm512_shuffle_f32x4(s01, s23, 0x88), _mm512_shuffle_f32x4(s01, s23, 0xDD));
}

// o[h] = alpha[h] · o[h] + Σ_t p[h][t] · v_t for NH heads from h0 (registers: NH · C accumulators), the values of
// key t at vrow[t] + at.
#define VALUES(D, NH)                                                                                                  \
  AVX512 static inline void values_##D##_##NH(float *o, long ldo, const float p[16][16], const float *alpha,        \
                                              const char *const *vrow, long at, long nk, int bf16) {                 \
    enum { C = D / 16 };                                                                                               \
    __m512 acc[NH][C];                                                                                                 \
    for (int i = 0; i < NH; i++)                                                                                       \
      for (int c = 0; c < C; c++)                                                                                      \
        acc[i][c] = _mm512_mul_ps(_mm512_loadu_ps(o + i * ldo + 16 * c), _mm512_set1_ps(alpha[i]));                    \
    for (long t = 0; t < nk; t++) {                                                                                    \
      __m512 v[C];                                                                                                     \
      for (int c = 0; c < C; c++) v[c] = load16(vrow[t] + at, 16 * c, bf16);                                          \
      for (int i = 0; i < NH; i++) {                                                                                   \
        __m512 pi = _mm512_set1_ps(p[i][t]);                                                                           \
        for (int c = 0; c < C; c++) acc[i][c] = _mm512_fmadd_ps(pi, v[c], acc[i][c]);                                 \
      }                                                                                                                \
    }                                                                                                                  \
    for (int i = 0; i < NH; i++)                                                                                       \
      for (int c = 0; c < C; c++) _mm512_storeu_ps(o + i * ldo + 16 * c, acc[i][c]);                                   \
  }

VALUES(64, 1)
VALUES(64, 2)
VALUES(64, 3)
VALUES(64, 4)
VALUES(128, 1)
VALUES(128, 2)

// One pass over the keys for all the KV heads of the call: each key tile's rows are gathered once, every head's
// scores are taken from them while they are in L1, and the values follow per KV head. A pass per KV head, each
// reading its part of every row, took the rows from memory once and again from L2 for the other heads (`bench
// attention`, SmolLM2's 3 KV heads, 64 sequences, 30 layers, on a Zen 5 host: K/V in cache, one thread, 33 -> 40
// GB/s; from memory, two threads, context 192, 0.74-0.80 -> 0.66-0.68 ms a layer; context 512 still 25-27 GB/s).
// Every key tile is computed as 16 keys (a short tile's padding keys read key 0's rows: their scores are masked, so
// their probabilities are exactly 0), and the cache's dtype is a constant of each copy of the kernel: the 16 dot
// products then stay in registers, unrolled, where a loop with a test per key and per load stored them to the stack
// (K/V in L2/L3 on one core: 8 sequences of 192 positions 37.6-39.2 -> 43.5-45.2 GB/s, 64 of 192 33.6-34.2 ->
// 35.8-39.1).
#define DECODE(D, GROUP, NAME, BF16)                                                                                   \
  AVX512 static void decode_##D##_##NAME(const float *q, int heads, int kv_heads, const void *k_cache,               \
                                         const void *v_cache, const int *table, long bs, long kv_dim, long offset,   \
                                         int whole, long key_start, long key_end, float *o, long ldo, float *m,      \
                                         float *l) {                                                                   \
    const int bf16 = BF16;                                                                                             \
    enum { C = D / 16 };                                                                                               \
    const long size = bf16 ? 2 : 4;                                                                                    \
    const int group = heads / kv_heads;                                                                                \
    float p[16][16] __attribute__((aligned(64)));  /* [head][key] probabilities of the key tile */                     \
    float ls[16][16] __attribute__((aligned(64))); /* [head][lane] partial sums of l, added up at the end */           \
    float mold[16] __attribute__((aligned(64))), mnew[16] __attribute__((aligned(64))), alpha[16];                   \
    const char *krow[16], *vrow[16];                                                                                   \
    for (int h = 0; h < 16; h++) {                                                                                     \
      mold[h] = mnew[h] = 0; /* lanes past `heads` stay 0: their alpha is 1, never used */                             \
      _mm512_store_ps(ls[h], _mm512_setzero_ps());                                                                     \
    }                                                                                                                  \
    for (int h = 0; h < heads; h++) {                                                                                  \
      mnew[h] = -INFINITY;                                                                                             \
      for (int c = 0; c < C; c++) _mm512_storeu_ps(o + h * ldo + 16 * c, _mm512_setzero_ps());                         \
    }                                                                                                                  \
    long fetched = key_start; /* positions before it have been asked for */                                         \
    tile_prefetch next;       /* their lines, asked for in 2 · heads shares: one per head's scores, then per       \
                                 KV head's values as many as its heads */                                              \
    /* Key tiles on multiples of 16 positions, as the tile kernel's. */                                                \
    for (long j = key_start; j < key_end;) {                                                                           \
      long end = (j & ~15L) + 16 < key_end ? (j & ~15L) + 16 : key_end, nk = end - j;                                 \
      gather_key_tile(k_cache, v_cache, table, bs, kv_dim, offset, kv_heads * D, size, whole, j, end, key_end,        \
                      &fetched, krow, vrow, &next);                                                                   \
      for (long t = nk; t < 16; t++) { /* padding keys: scores masked, probabilities 0 */                            \
        krow[t] = krow[0];                                                                                             \
        vrow[t] = vrow[0];                                                                                             \
      }                                                                                                                \
      __mmask16 valid = (__mmask16)((1u << nk) - 1);                                                                   \
      for (int h = 0; h < heads; h++) {                                                                                \
        const long at = (h / group) * D * size; /* the head's KV head in the rows */                                  \
        __m512 qh[C], dots[16];                                                                                        \
        for (int c = 0; c < C; c++) qh[c] = _mm512_loadu_ps(q + h * D + 16 * c);                                       \
        prefetch_share(&next, 2 * heads - h);                                                                          \
        _Pragma("unroll") for (int t = 0; t < 16; t++) {                                                               \
          __m512 s = _mm512_mul_ps(qh[0], load16(krow[t] + at, 0, bf16));                                              \
          for (int c = 1; c < C; c++) s = _mm512_fmadd_ps(qh[c], load16(krow[t] + at, 16 * c, bf16), s);              \
          dots[t] = s;                                                                                                 \
        }                                                                                                              \
        __m512 s = _mm512_mask_blend_ps(valid, _mm512_set1_ps(-INFINITY), reduce16(dots));                            \
        float top = _mm512_reduce_max_ps(s);                                                                           \
        mold[h] = mnew[h];                                                                                             \
        mnew[h] = mold[h] > top ? mold[h] : top;                                                                       \
        _mm512_store_ps(p[h], exp2v(_mm512_sub_ps(s, _mm512_set1_ps(mnew[h]))));                                       \
      }                                                                                                                \
      /* The heads' rescales 2^(m - m') in one exponential: 0 while m is -inf (exp2v clamps at -127). */              \
      _mm512_storeu_ps(alpha, exp2v(_mm512_sub_ps(_mm512_load_ps(mold), _mm512_load_ps(mnew))));                      \
      for (int h = 0; h < heads; h++) {                                                                                \
        __m512 lh = _mm512_load_ps(ls[h]);                                                                             \
        _mm512_store_ps(ls[h], _mm512_fmadd_ps(lh, _mm512_set1_ps(alpha[h]), _mm512_load_ps(p[h])));                   \
      }                                                                                                                \
      for (int g = 0; g < kv_heads; g++) {                                                                             \
        const long at = g * D * size;                                                                                  \
        for (int h = g * group; h < (g + 1) * group; h += GROUP) {                                                     \
          int nh = (g + 1) * group - h < GROUP ? (g + 1) * group - h : GROUP;                                          \
          const float(*ph)[16] = (const float(*)[16])p[h];                                                             \
          DECODE_VALUES_##D                                                                                            \
        }                                                                                                              \
        prefetch_share(&next, kv_heads - g);                                                                           \
      }                                                                                                                \
      j = end;                                                                                                         \
    }                                                                                                                  \
    for (int h = 0; h < heads; h++) {                                                                                  \
      m[h] = mnew[h];                                                                                                  \
      l[h] = _mm512_reduce_add_ps(_mm512_load_ps(ls[h]));                                                              \
    }                                                                                                                  \
  }

#define DECODE_VALUES_64                                                                                               \
  switch (nh) {                                                                                                        \
  case 1: values_64_1(o + h * ldo, ldo, ph, alpha + h, vrow, at, 16, bf16); break;                                     \
  case 2: values_64_2(o + h * ldo, ldo, ph, alpha + h, vrow, at, 16, bf16); break;                                     \
  case 3: values_64_3(o + h * ldo, ldo, ph, alpha + h, vrow, at, 16, bf16); break;                                     \
  default: values_64_4(o + h * ldo, ldo, ph, alpha + h, vrow, at, 16, bf16); break;                                    \
  }
#define DECODE_VALUES_128                                                                                              \
  if (nh == 1) values_128_1(o + h * ldo, ldo, ph, alpha + h, vrow, at, 16, bf16);                                      \
  else values_128_2(o + h * ldo, ldo, ph, alpha + h, vrow, at, 16, bf16);

DECODE(64, 4, f32, 0)
DECODE(64, 4, bf16, 1)
DECODE(128, 2, f32, 0)
DECODE(128, 2, bf16, 1)

void seesaw_attention_decode(const float *q, int heads, int kv_heads, long head_dim, const void *k_cache,
                             const void *v_cache, int bf16, const int *table, long block_size, long kv_dim,
                             long head_offset, int prefetch_rows, long key_start, long key_end, float *o, long ldo,
                             float *m, float *l) {
  // Callers check seesaw_attention_decode_available(head_dim) first.
  if (!seesaw_gemm_available())
    return seesaw_attention_decode_avx2(q, heads, kv_heads, head_dim, k_cache, v_cache, bf16, table, block_size,
                                        kv_dim, head_offset, prefetch_rows, key_start, key_end, o, ldo, m, l);
  void (*kernel)(const float *, int, int, const void *, const void *, const int *, long, long, long, int, long, long,
                 float *, long, float *, float *) =
      head_dim == 64 ? (bf16 ? decode_64_bf16 : decode_64_f32) : (bf16 ? decode_128_bf16 : decode_128_f32);
  kernel(q, heads, kv_heads, k_cache, v_cache, table, block_size, kv_dim, head_offset, prefetch_rows, key_start,
         key_end, o, ldo, m, l);
}
