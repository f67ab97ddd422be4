// Shared by the f32 and bf16 panel GEMMs: masks for a panel of n ≤ 32 outputs, and the store of one tile row.
#ifndef SEESAW_TILE_STORE_H
#define SEESAW_TILE_STORE_H
#include <immintrin.h>

/// Lanes of the two output registers that hold real outputs when a panel has n ≤ 32 of them.
static inline void tile_masks(long n, __mmask16 *m0, __mmask16 *m1) {
  *m0 = n >= 16 ? 0xffff : (__mmask16)((1u << n) - 1);
  *m1 = n >= 32 ? 0xffff : n > 16 ? (__mmask16)((1u << (n - 16)) - 1) : 0;
}

/// c[0..<n] = a0|a1 (masked), or += when `accumulate` (later K blocks add to earlier ones).
__attribute__((target("avx512f"))) static inline void store_tile_row(float *c, __m512 a0, __m512 a1, __mmask16 m0,
                                                                     __mmask16 m1, int accumulate) {
  if (accumulate) {
    a0 = _mm512_add_ps(a0, _mm512_maskz_loadu_ps(m0, c));
    a1 = _mm512_add_ps(a1, _mm512_maskz_loadu_ps(m1, c + 16));
  }
  _mm512_mask_storeu_ps(c, m0, a0);
  _mm512_mask_storeu_ps(c + 16, m1, a1);
}
#endif
