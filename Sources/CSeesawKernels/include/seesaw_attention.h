// Paged attention of decode tokens: one token's query heads of one KV group against a range of its keys.
#ifndef SEESAW_KERNELS_ATTENTION_H
#define SEESAW_KERNELS_ATTENTION_H
#ifdef __cplusplus
extern "C" {
#endif

/// 1 when seesaw_attention_decode runs head dims of `head_dim` (64 and 128, on AVX-512 or AVX2 + FMA CPUs).
int seesaw_attention_decode_available(long head_dim);

/// The online softmax state of `heads` (≤ 16) query heads of one decode token over its keys key_start..<key_end,
/// heads / kv_heads of them on each of kv_heads consecutive KV heads: m[h] the running max of the scores (log₂
/// domain), l[h] the sum of 2^(score - m[h]) and o[h * ldo ..< h * ldo + head_dim] the unnormalised output
/// Σ 2^(score - m[h]) · v. Keys are read 16 at a time.
/// - q: [heads][head_dim] f32 queries, already scaled by log₂e / √head_dim, grouped by KV head.
/// - k_cache, v_cache: [slots][kv_dim] values, f32 or (bf16 = 1) bf16; position p is slot
///   table[p / block_size] * block_size + p % block_size, and the first KV head's values start at head_offset in a
///   row.
/// - prefetch_rows: 1 prefetches whole rows (all KV heads) of the next keys, 0 only these heads' part.
void seesaw_attention_decode(const float *q, int heads, int kv_heads, long head_dim, const void *k_cache,
                             const void *v_cache, int bf16, const int *table, long block_size, long kv_dim,
                             long head_offset, int prefetch_rows, long key_start, long key_end, float *o, long ldo,
                             float *m, float *l);

/// seesaw_attention_decode's form for AVX2 + FMA CPUs without AVX-512 (8-lane registers), which it calls there;
/// callable on any AVX2 CPU, so that tests on AVX-512 machines hold it to the AVX-512 form.
void seesaw_attention_decode_avx2(const float *q, int heads, int kv_heads, long head_dim, const void *k_cache,
                                  const void *v_cache, int bf16, const int *table, long block_size, long kv_dim,
                                  long head_offset, int prefetch_rows, long key_start, long key_end, float *o,
                                  long ldo, float *m, float *l);

#ifdef __cplusplus
}
#endif
#endif
