// seesaw_gemv for the K-quants (gemv_kquants.c), called by gemv.c.
#ifndef SEESAW_GEMV_KQUANTS_H
#define SEESAW_GEMV_KQUANTS_H
#include <stdint.h>

/// seesaw_gemv for dtype 6 (q4_K) and 7 (q6_K); k is a multiple of 256, as the formats require.
void seesaw_gemv_kquant(int dtype, const uint8_t *w, long row_bytes, long rows, const float *x, long k, long m,
                        float *y, long ldy);
#endif
