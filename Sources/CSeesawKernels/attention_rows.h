// The paged cache's addressing and the key-tile gathering shared by the decode attention kernels
// (attention_decode.c, attention_decode_avx2.c).
#ifndef SEESAW_ATTENTION_ROWS_H
#define SEESAW_ATTENTION_ROWS_H
#include <immintrin.h>

/// Keys ahead of the current tile whose rows are prefetched: one tile (16, 32, 64 and 128 within noise here; two
/// tiles, once the prefetches were spread over the work, within noise too).
#define PREFETCH_KEYS 16

/// The cache lines of the next keys' rows, asked for a share at a time as the tile's work goes on. Asked for all at
/// once at the start of the tile (384 prefetches for SmolLM2's f32 rows), they held the tile's own loads behind
/// them until most had gone out, and the time of a layer was that of its reads plus that of its arithmetic: decode
/// attention ran as fast without any prefetch (`bench attention`, SmolLM2's heads, 64 sequences, 30 layers, two
/// threads of the Zen 5 host, alternated in one process: 192 positions f32 0.68-0.90 -> 0.52-0.67 ms a layer, bf16
/// 0.42-0.44 -> 0.30-0.35; 512 positions f32 1.77-2.11 -> 1.35-1.47, bf16 1.00-1.14 -> 0.74-0.85; 16 sequences of
/// 1024 f32 0.95 -> 0.75).
typedef struct {
  const char *rows[2 * PREFETCH_KEYS];  // the K and the V row of each key
  long num_rows, lines_per_row;
  long row, line;  // the next line to ask for
} tile_prefetch;

/// Asks for the next ceil(left / shares) lines of `f` (the last of `shares` shares of the work left in the tile:
/// everything that is left).
static inline void prefetch_share(tile_prefetch *f, long shares) {
  long left = (f->num_rows - f->row) * f->lines_per_row - f->line;
  for (long count = (left + shares - 1) / shares; count > 0; count--) {
    _mm_prefetch(f->rows[f->row] + 64 * f->line, _MM_HINT_T0);
    if (++f->line == f->lines_per_row) {
      f->line = 0;
      f->row++;
    }
  }
}

/// The row of position `pos` in a paged cache (block table `table`, `bs` positions a block, rows of kv_dim values
/// of `size` bytes), from value `offset` on.
static inline const char *row_at(const void *cache, const int *table, long pos, long bs, long kv_dim, long offset,
                                 long size) {
  long slot = (long)table[pos / bs] * bs + pos % bs;
  return (const char *)cache + (slot * kv_dim + offset) * size;
}

/// The K and V rows of keys j..<end (one tile) into krow and vrow, and into `f` the rows of the keys up to
/// PREFETCH_KEYS past it that `*fetched` has not reached (the next keys' rows come from memory, each block
/// elsewhere: asked for during this tile's work with `prefetch_share`, used a tile later), `head_dim` values of the
/// head from `offset` or, `whole`, all kv_dim.
static inline void gather_key_tile(const void *k_cache, const void *v_cache, const int *table, long bs, long kv_dim,
                                   long offset, long head_dim, long size, int whole, long j, long end, long key_end,
                                   long *fetched, const char **krow, const char **vrow, tile_prefetch *f) {
  for (long t = 0; t < end - j; t++) {
    krow[t] = row_at(k_cache, table, j + t, bs, kv_dim, offset, size);
    vrow[t] = row_at(v_cache, table, j + t, bs, kv_dim, offset, size);
  }
  long ahead = end + PREFETCH_KEYS < key_end ? end + PREFETCH_KEYS : key_end;
  f->num_rows = f->row = f->line = 0;
  f->lines_per_row = ((whole ? kv_dim : head_dim) * size + 63) / 64;
  for (long t = *fetched > end ? *fetched : end; t < ahead; t++) {
    f->rows[f->num_rows++] = row_at(k_cache, table, t, bs, kv_dim, whole ? 0 : offset, size);
    f->rows[f->num_rows++] = row_at(v_cache, table, t, bs, kv_dim, whole ? 0 : offset, size);
  }
  *fetched = ahead;
}
#endif
