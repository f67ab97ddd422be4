// The paged cache's addressing and the key-tile gathering shared by the decode attention kernels
// (attention_decode.c, attention_decode_avx2.c).
#ifndef SEESAW_ATTENTION_ROWS_H
#define SEESAW_ATTENTION_ROWS_H
#include <immintrin.h>

/// Keys ahead of the current tile whose rows are prefetched: one tile (16, 32, 64 and 128 within noise here).
#define PREFETCH_KEYS 16

/// The row of position `pos` in a paged cache (block table `table`, `bs` positions a block, rows of kv_dim values
/// of `size` bytes), from value `offset` on.
static inline const char *row_at(const void *cache, const int *table, long pos, long bs, long kv_dim, long offset,
                                 long size) {
  long slot = (long)table[pos / bs] * bs + pos % bs;
  return (const char *)cache + (slot * kv_dim + offset) * size;
}

/// The K and V rows of keys j..<end (one tile) into krow and vrow, and a prefetch of the rows of the keys up to
/// PREFETCH_KEYS past it that `*fetched` has not reached (the next keys' rows come from memory, each block
/// elsewhere: asked for now, used a tile later), `head_dim` values of the head from `offset` or, `whole`, all kv_dim.
static inline void gather_key_tile(const void *k_cache, const void *v_cache, const int *table, long bs, long kv_dim,
                                   long offset, long head_dim, long size, int whole, long j, long end, long key_end,
                                   long *fetched, const char **krow, const char **vrow) {
  for (long t = 0; t < end - j; t++) {
    krow[t] = row_at(k_cache, table, j + t, bs, kv_dim, offset, size);
    vrow[t] = row_at(v_cache, table, j + t, bs, kv_dim, offset, size);
  }
  long ahead = end + PREFETCH_KEYS < key_end ? end + PREFETCH_KEYS : key_end;
  long bytes = (whole ? kv_dim : head_dim) * size;
  for (long t = *fetched > end ? *fetched : end; t < ahead; t++) {
    const char *kp = row_at(k_cache, table, t, bs, kv_dim, whole ? 0 : offset, size);
    const char *vp = row_at(v_cache, table, t, bs, kv_dim, whole ? 0 : offset, size);
    for (long b = 0; b < bytes; b += 64) {
      _mm_prefetch(kp + b, _MM_HINT_T0);
      _mm_prefetch(vp + b, _MM_HINT_T0);
    }
  }
  *fetched = ahead;
}
#endif
