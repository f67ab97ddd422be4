#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include "avx2_blocks.h"
#include "attention_rows.h"
#include "seesaw_attention.h"

// seesaw_attention_decode on AVX2 CPUs without AVX-512 (attention_decode.c has the why): the same algorithm, each
// 16-lane vector a pair of 8-lane registers (`v16`), so the keys of a tile are the lanes as there.

typedef struct {
  __m256 lo, hi;  // lanes 0-7, 8-15
} v16;

#define AVX2_ATT __attribute__((target("avx2,fma,f16c"), always_inline)) static inline

AVX2_ATT v16 v_set1(float x) { return (v16){_mm256_set1_ps(x), _mm256_set1_ps(x)}; }
AVX2_ATT v16 v_zero(void) { return (v16){_mm256_setzero_ps(), _mm256_setzero_ps()}; }
AVX2_ATT v16 v_loadu(const float *p) { return (v16){_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)}; }
AVX2_ATT void v_storeu(float *p, v16 v) {
  _mm256_storeu_ps(p, v.lo);
  _mm256_storeu_ps(p + 8, v.hi);
}
AVX2_ATT v16 v_add(v16 a, v16 b) { return (v16){_mm256_add_ps(a.lo, b.lo), _mm256_add_ps(a.hi, b.hi)}; }
AVX2_ATT v16 v_sub(v16 a, v16 b) { return (v16){_mm256_sub_ps(a.lo, b.lo), _mm256_sub_ps(a.hi, b.hi)}; }
AVX2_ATT v16 v_mul(v16 a, v16 b) { return (v16){_mm256_mul_ps(a.lo, b.lo), _mm256_mul_ps(a.hi, b.hi)}; }
AVX2_ATT v16 v_fmadd(v16 a, v16 b, v16 c) {
  return (v16){_mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi)};
}

AVX2_ATT __m256 bf16x8(const char *p) {
  __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(h, 16));
}

AVX2_ATT v16 v_load16(const char *row, long i, int bf16) {
  if (bf16) return (v16){bf16x8(row + 2 * i), bf16x8(row + 2 * i + 16)};
  return v_loadu((const float *)row + i);
}

// VectorMath.exp2 (Cephes' exp2f polynomial) with the same operations in the same order, 8 lanes.
AVX2_ATT __m256 exp2v8(__m256 x) {
  x = _mm256_blendv_ps(x, _mm256_set1_ps(-127), _mm256_cmp_ps(x, _mm256_set1_ps(-127), _CMP_LT_OQ));
  const __m256 shifter = _mm256_set1_ps(12582912.0f);
  __m256 t = _mm256_add_ps(x, shifter);
  __m256 f = _mm256_sub_ps(x, _mm256_sub_ps(t, shifter));
  __m256 p = _mm256_set1_ps(1.535336188319500e-4f);
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.339887440266574e-3f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(9.618437357674640e-3f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(5.550332471162809e-2f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(2.402264791363012e-1f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(6.931472028550421e-1f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f));
  __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_castps_si256(t), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
}

AVX2_ATT v16 v_exp2(v16 x) { return (v16){exp2v8(x.lo), exp2v8(x.hi)}; }

// Lane t of the result = the sum of v[t]'s 8 lanes.
AVX2_ATT __m256 reduce8(const __m256 v[8]) {
  __m256 t0 = _mm256_hadd_ps(v[0], v[1]), t1 = _mm256_hadd_ps(v[2], v[3]);
  __m256 t2 = _mm256_hadd_ps(v[4], v[5]), t3 = _mm256_hadd_ps(v[6], v[7]);
  // [s0 s1 s2 s3 | s0' s1' s2' s3'] and the same for 4-7: each sum's halves, one per 128-bit lane.
  __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);
  return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

// Lane t of the result = the sum of v[t]'s 16 lanes.
AVX2_ATT v16 reduce16(const v16 v[16]) {
  __m256 s[16];
  for (int t = 0; t < 16; t++) s[t] = _mm256_add_ps(v[t].lo, v[t].hi);
  return (v16){reduce8(s), reduce8(s + 8)};
}

AVX2_ATT float hmax8(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
}

// o[h] = alpha[h] · o[h] + Σ_t p[h][t] · v_t for NH heads from h0 (NH · C pairs of accumulators).
#define VALUES2(D, NH)                                                                                                 \
  AVX2_ATT void values2_##D##_##NH(float *o, long ldo, const float p[16][16], const float *alpha,                   \
                                   const char *const *vrow, long nk, int bf16) {                                      \
    enum { C = D / 16 };                                                                                               \
    v16 acc[NH][C];                                                                                                    \
    for (int i = 0; i < NH; i++)                                                                                       \
      for (int c = 0; c < C; c++) acc[i][c] = v_mul(v_loadu(o + i * ldo + 16 * c), v_set1(alpha[i]));                 \
    for (long t = 0; t < nk; t++) {                                                                                    \
      v16 v[C];                                                                                                        \
      for (int c = 0; c < C; c++) v[c] = v_load16(vrow[t], 16 * c, bf16);                                             \
      for (int i = 0; i < NH; i++) {                                                                                   \
        v16 pi = v_set1(p[i][t]);                                                                                      \
        for (int c = 0; c < C; c++) acc[i][c] = v_fmadd(pi, v[c], acc[i][c]);                                          \
      }                                                                                                                \
    }                                                                                                                  \
    for (int i = 0; i < NH; i++)                                                                                       \
      for (int c = 0; c < C; c++) v_storeu(o + i * ldo + 16 * c, acc[i][c]);                                           \
  }

// 16 registers: D 64 takes two heads at a time (2 · 4 pairs of accumulators), 128 one.
VALUES2(64, 1)
VALUES2(64, 2)
VALUES2(128, 1)

#define DECODE2(D)                                                                                                     \
  __attribute__((target("avx2,fma,f16c"))) static void decode2_##D(                                                  \
      const float *q, int heads, const void *k_cache, const void *v_cache, int bf16, const int *table, long bs,      \
      long kv_dim, long offset, int whole, long key_start, long key_end, float *o, long ldo, float *m, float *l) {    \
    enum { C = D / 16 };                                                                                               \
    const long size = bf16 ? 2 : 4;                                                                                    \
    float p[16][16] __attribute__((aligned(64)));                                                                      \
    float ls[16][16] __attribute__((aligned(64)));                                                                     \
    float mold[16] __attribute__((aligned(64))), mnew[16] __attribute__((aligned(64))), alpha[16];                   \
    const char *krow[16], *vrow[16];                                                                                   \
    const v16 iota = {_mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7), _mm256_setr_ps(8, 9, 10, 11, 12, 13, 14, 15)};          \
    for (int h = 0; h < 16; h++) {                                                                                     \
      mold[h] = mnew[h] = 0;                                                                                           \
      v_storeu(ls[h], v_zero());                                                                                       \
    }                                                                                                                  \
    for (int h = 0; h < heads; h++) {                                                                                  \
      mnew[h] = -INFINITY;                                                                                             \
      for (int c = 0; c < C; c++) v_storeu(o + h * ldo + 16 * c, v_zero());                                            \
    }                                                                                                                  \
    long fetched = key_start;                                                                                          \
    for (long j = key_start; j < key_end;) {                                                                           \
      long end = (j & ~15L) + 16 < key_end ? (j & ~15L) + 16 : key_end, nk = end - j;                                 \
      gather_key_tile(k_cache, v_cache, table, bs, kv_dim, offset, D, size, whole, j, end, key_end, &fetched,         \
                      krow, vrow);                                                                                    \
      v16 count = v_set1((float)nk);                                                                                   \
      __m256 validLo = _mm256_cmp_ps(iota.lo, count.lo, _CMP_LT_OQ);                                                   \
      __m256 validHi = _mm256_cmp_ps(iota.hi, count.hi, _CMP_LT_OQ);                                                   \
      for (int h = 0; h < heads; h++) {                                                                                \
        v16 qh[C], dots[16];                                                                                           \
        for (int c = 0; c < C; c++) qh[c] = v_loadu(q + h * D + 16 * c);                                               \
        for (int t = 0; t < 16; t++) {                                                                                 \
          if (t >= nk) {                                                                                               \
            dots[t] = v_zero();                                                                                        \
            continue;                                                                                                  \
          }                                                                                                            \
          v16 s = v_mul(qh[0], v_load16(krow[t], 0, bf16));                                                            \
          for (int c = 1; c < C; c++) s = v_fmadd(qh[c], v_load16(krow[t], 16 * c, bf16), s);                         \
          dots[t] = s;                                                                                                 \
        }                                                                                                              \
        v16 s = reduce16(dots);                                                                                        \
        s.lo = _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), s.lo, validLo);                                             \
        s.hi = _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), s.hi, validHi);                                             \
        float top = hmax8(_mm256_max_ps(s.lo, s.hi));                                                                  \
        mold[h] = mnew[h];                                                                                             \
        mnew[h] = mold[h] > top ? mold[h] : top;                                                                       \
        v_storeu(p[h], v_exp2(v_sub(s, v_set1(mnew[h]))));                                                             \
      }                                                                                                                \
      v_storeu(alpha, v_exp2(v_sub(v_loadu(mold), v_loadu(mnew))));                                                    \
      for (int h = 0; h < heads; h++) v_storeu(ls[h], v_fmadd(v_loadu(ls[h]), v_set1(alpha[h]), v_loadu(p[h])));      \
      for (int h = 0; h < heads;) {                                                                                    \
        const float(*ph)[16] = (const float(*)[16])p[h];                                                               \
        DECODE2_VALUES_##D                                                                                             \
      }                                                                                                                \
      j = end;                                                                                                         \
    }                                                                                                                  \
    for (int h = 0; h < heads; h++) {                                                                                  \
      m[h] = mnew[h];                                                                                                  \
      v16 lh = v_loadu(ls[h]);                                                                                         \
      l[h] = hsum8(_mm256_add_ps(lh.lo, lh.hi));                                                                   \
    }                                                                                                                  \
  }

#define DECODE2_VALUES_64                                                                                              \
  if (heads - h >= 2) {                                                                                                \
    values2_64_2(o + h * ldo, ldo, ph, alpha + h, vrow, nk, bf16);                                                     \
    h += 2;                                                                                                            \
  } else {                                                                                                             \
    values2_64_1(o + h * ldo, ldo, ph, alpha + h, vrow, nk, bf16);                                                     \
    h += 1;                                                                                                            \
  }
#define DECODE2_VALUES_128                                                                                             \
  values2_128_1(o + h * ldo, ldo, ph, alpha + h, vrow, nk, bf16);                                                      \
  h += 1;

DECODE2(64)
DECODE2(128)

int seesaw_attention_decode_avx2_available(long head_dim) {
  return seesaw_has_avx2() && (head_dim == 64 || head_dim == 128);
}

void seesaw_attention_decode_avx2(const float *q, int heads, long head_dim, const void *k_cache, const void *v_cache,
                                  int bf16, const int *table, long block_size, long kv_dim, long head_offset,
                                  int prefetch_rows, long key_start, long key_end, float *o, long ldo, float *m,
                                  float *l) {
  if (head_dim == 64)
    decode2_64(q, heads, k_cache, v_cache, bf16, table, block_size, kv_dim, head_offset, prefetch_rows, key_start,
               key_end, o, ldo, m, l);
  else
    decode2_128(q, heads, k_cache, v_cache, bf16, table, block_size, kv_dim, head_offset, prefetch_rows, key_start,
                key_end, o, ldo, m, l);
}
