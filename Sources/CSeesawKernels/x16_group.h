// Groups of 16 rows in the interleaved copy of a weight matrix (seesaw_repack_x16), as the int8 and the digits
// kernels walk them.
#ifndef SEESAW_X16_GROUP_H
#define SEESAW_X16_GROUP_H
#include <stdint.h>

#include "seesaw_gemm.h"

typedef struct {
  const uint8_t *quants;    // [k / 32][quant bytes]
  const uint16_t *scales;   // [k / 32][scale halves]
  long valid;               // rows of the 16 that the matrix has (the last group may be partial)
} x16_group;

/// Group g of the copy of a `rows` x k matrix of `dtype` (seesaw_gemv codes).
static inline x16_group x16_group_at(int dtype, const uint8_t *quants, const uint16_t *scales, long rows, long k,
                                     long g) {
  long blocks = k / 32;
  return (x16_group){quants + g * blocks * seesaw_x16_quant_bytes(dtype),
                     scales + g * blocks * seesaw_x16_scale_halves(dtype), rows - g * 16 < 16 ? rows - g * 16 : 16};
}
#endif
