#include "f16_table.h"

// IEEE half -> float, bit-exact with the F16C instructions for every input: normals, subnormals, infinities, and
// NaNs, which come out quiet (the payload kept) as vcvtph2ps and Swift's Float(Float16) make them.
float seesaw_half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      exp = 127 - 15 + 1;
      while ((mant & 0x400) == 0) {
        mant <<= 1;
        exp--;
      }
      bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
    }
  } else if (exp == 31) {  // inf; nan made quiet, as vcvtph2ps does
    bits = sign | 0x7f800000 | (mant << 13) | (mant ? 0x400000 : 0);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

float seesaw_f16_table[1 << 16];

// Filled when the library loads (about 0.1 ms), in portable C: it must not need F16C on a CPU that lacks it.
__attribute__((constructor)) static void fill_f16_table(void) {
  for (uint32_t h = 0; h < (1u << 16); h++) seesaw_f16_table[h] = seesaw_half_to_float((uint16_t)h);
}

float seesaw_f16_table_value(unsigned short h) { return seesaw_f16_table[h]; }
