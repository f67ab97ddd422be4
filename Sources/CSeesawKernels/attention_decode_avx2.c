#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include "avx2_blocks.h"
#include "attention_rows.h"
#include "seesaw_attention.h"

// seesaw_attention_decode on AVX2 CPUs without AVX-512: the same online softmax, laid out for 16 registers. The
// AVX-512 kernel's 16 vectors of partial dot products and its values' accumulators for two heads are 32 and 24
// 8-lane registers here: they spilled, and the kernel ran at 19 GFLOP/s on one Zen 3 core with K/V in L2 (20% of
// the FMA peak). Here a head's scores take 4 keys at a time (2 chains of FMAs each against the query held in
// registers, one transposing reduction per 4), and its values 64 columns at a time (8 accumulators, one broadcast
// probability and 8 FMAs per key).

#define AVX2_ATT __attribute__((target("avx2,fma,f16c"), always_inline)) static inline

// Values 8c..8c+7 of a row (f32, or bf16 widened exactly).
AVX2_ATT __m256 row8(const char *row, int c, int bf16) {
  if (bf16) {
    __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(row + 16 * c)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(h, 16));
  }
  return _mm256_loadu_ps((const float *)row + 8 * c);
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

AVX2_ATT float hmax8(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
}

// Lane t of the result = q · k_t for the 4 rows k[0..3] + at (D = 8 · C8 values each).
AVX2_ATT __m128 dots4(const __m256 *q, const char *const *k, long at, const int C8, int bf16) {
  __m256 a[4][2];
#pragma clang loop unroll(full)
  for (int t = 0; t < 4; t++) a[t][0] = a[t][1] = _mm256_setzero_ps();
#pragma clang loop unroll(full)
  for (int c = 0; c < C8; c++) {
#pragma clang loop unroll(full)
    for (int t = 0; t < 4; t++) a[t][c & 1] = _mm256_fmadd_ps(q[c], row8(k[t] + at, c, bf16), a[t][c & 1]);
  }
  __m256 s[4];
#pragma clang loop unroll(full)
  for (int t = 0; t < 4; t++) s[t] = _mm256_add_ps(a[t][0], a[t][1]);
  // per 128-bit half: [Σ s0, Σ s1, Σ s2, Σ s3] of that half's 4 lanes; then the halves added
  __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(s[0], s[1]), _mm256_hadd_ps(s[2], s[3]));
  return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

// o[0..<D] = alpha · o + Σ_t<nk p[t] · v_t (the rows vrow[t] + at), 64 columns at a time.
AVX2_ATT void values(float *o, const float *p, float alpha, const char *const *vrow, long at, long nk, const int D,
                     int bf16, long size) {
#pragma clang loop unroll(full)
  for (int col = 0; col < D; col += 64) {
    __m256 acc[8];
#pragma clang loop unroll(full)
    for (int c = 0; c < 8; c++) acc[c] = _mm256_mul_ps(_mm256_loadu_ps(o + col + 8 * c), _mm256_set1_ps(alpha));
    for (long t = 0; t < nk; t++) {
      __m256 pt = _mm256_set1_ps(p[t]);
      const char *v = vrow[t] + at + col * size;
#pragma clang loop unroll(full)
      for (int c = 0; c < 8; c++) acc[c] = _mm256_fmadd_ps(pt, row8(v, c, bf16), acc[c]);
    }
#pragma clang loop unroll(full)
    for (int c = 0; c < 8; c++) _mm256_storeu_ps(o + col + 8 * c, acc[c]);
  }
}

// heads = kv_heads · group query heads, group g of them on KV head g (from `offset` on): the rows of a key tile are
// gathered once for all of them, so that a sequence's K/V stream through once, whole rows at a time, where one call
// per KV head read the row's other heads' values from memory again (a row's heads share its cache lines).
AVX2_ATT void decode_avx2(const float *q, int heads, int kv_heads, const int D, const void *k_cache,
                          const void *v_cache, int bf16, const int *table, long bs, long kv_dim, long offset,
                          int whole, long key_start, long key_end, float *o, long ldo, float *m, float *l) {
  const int C8 = D / 8, group = heads / kv_heads;
  const long size = bf16 ? 2 : 4;
  const char *krow[16], *vrow[16];
  float mrun[16], lrun[16];
  for (int h = 0; h < heads; h++) {
    mrun[h] = -INFINITY;
    lrun[h] = 0;
    for (int c = 0; c < D; c += 8) _mm256_storeu_ps(o + h * ldo + c, _mm256_setzero_ps());
  }
  const __m256 iota_lo = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7), iota_hi = _mm256_setr_ps(8, 9, 10, 11, 12, 13, 14, 15);
  long fetched = key_start;
  tile_prefetch next;  // their lines, asked for in a share per head
  for (long j = key_start; j < key_end;) {
    long end = (j & ~15L) + 16 < key_end ? (j & ~15L) + 16 : key_end, nk = end - j;
    gather_key_tile(k_cache, v_cache, table, bs, kv_dim, offset, kv_heads * D, size, whole, j, end, key_end,
                    &fetched, krow, vrow, &next);
    for (long t = nk; t < 16; t++) krow[t] = krow[0];  // padding keys: scores computed, then masked
    const __m256 count = _mm256_set1_ps((float)nk);
    const __m256 valid_lo = _mm256_cmp_ps(iota_lo, count, _CMP_LT_OQ);
    const __m256 valid_hi = _mm256_cmp_ps(iota_hi, count, _CMP_LT_OQ);
    for (int h = 0; h < heads; h++) {
      const long at = (long)(h / group) * D * size;  // the head's KV head in the rows
      __m256 qh[16];
#pragma clang loop unroll(full)
      for (int c = 0; c < C8; c++) qh[c] = _mm256_loadu_ps(q + h * D + 8 * c);
      prefetch_share(&next, heads - h);
      float s[16] __attribute__((aligned(32)));
      for (long t = 0; t < nk; t += 4) _mm_store_ps(s + t, dots4(qh, krow + t, at, C8, bf16));
      __m256 lo = _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), _mm256_load_ps(s), valid_lo);
      __m256 hi = nk > 8 ? _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), _mm256_load_ps(s + 8), valid_hi)
                         : _mm256_set1_ps(-INFINITY);
      float top = hmax8(_mm256_max_ps(lo, hi));
      float mold = mrun[h], mnew = mold > top ? mold : top;
      __m256 mv = _mm256_set1_ps(mnew);
      float p[16] __attribute__((aligned(32)));
      __m256 plo = _mm256_and_ps(exp2v8(_mm256_sub_ps(lo, mv)), valid_lo);
      __m256 phi = _mm256_and_ps(exp2v8(_mm256_sub_ps(hi, mv)), valid_hi);
      _mm256_store_ps(p, plo);
      _mm256_store_ps(p + 8, phi);
      float alpha = _mm256_cvtss_f32(exp2v8(_mm256_set1_ps(mold - mnew)));
      lrun[h] = lrun[h] * alpha + hsum8(_mm256_add_ps(plo, phi));
      mrun[h] = mnew;
      values(o + h * ldo, p, alpha, vrow, at, nk, D, bf16, size);
    }
    j = end;
  }
  for (int h = 0; h < heads; h++) {
    m[h] = mrun[h];
    l[h] = lrun[h];
  }
}

int seesaw_attention_decode_avx2_available(long head_dim) {
  return seesaw_has_avx2() && (head_dim == 64 || head_dim == 128);
}

// Each head dim its own body (decode_avx2 inlined with D a constant).
__attribute__((target("avx2,fma,f16c"))) void seesaw_attention_decode_avx2(
    const float *q, int heads, int kv_heads, long head_dim, const void *k_cache, const void *v_cache, int bf16,
    const int *table, long block_size, long kv_dim, long head_offset, int prefetch_rows, long key_start, long key_end,
    float *o, long ldo, float *m, float *l) {
  if (head_dim == 64)
    decode_avx2(q, heads, kv_heads, 64, k_cache, v_cache, bf16, table, block_size, kv_dim, head_offset,
                prefetch_rows, key_start, key_end, o, ldo, m, l);
  else
    decode_avx2(q, heads, kv_heads, 128, k_cache, v_cache, bf16, table, block_size, kv_dim, head_offset,
                prefetch_rows, key_start, key_end, o, ldo, m, l);
}
