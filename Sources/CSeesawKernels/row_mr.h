// The gemv kernels' dispatch on the rows of x they take at once (gemv.c, gemv_kquants.c, gemv_avx2.c).
#ifndef SEESAW_ROW_MR_H
#define SEESAW_ROW_MR_H

/// row_NAME(w, x, k, mr, out, ldy): row_NAME_mr with mr (≤ 4) as a constant, so that its accumulators live in
/// registers; ATTR is the kernels' target attribute.
#define ROW_MR_DISPATCH(ATTR, NAME)                                                                              \
  ATTR static void row_##NAME(const uint8_t *w, const float *x, long k, int mr, float *out, long ldy) {          \
    switch (mr) {                                                                                               \
    case 1: row_##NAME##_mr(w, x, k, 1, out, ldy); break;                                                       \
    case 2: row_##NAME##_mr(w, x, k, 2, out, ldy); break;                                                       \
    case 3: row_##NAME##_mr(w, x, k, 3, out, ldy); break;                                                       \
    default: row_##NAME##_mr(w, x, k, 4, out, ldy); break;                                                      \
    }                                                                                                           \
  }
#endif
