// f16 -> f32 for every f16 value (ggml's table), so that a block's f16 scale reaches all 16 lanes as one broadcast load.
// The instruction pair it replaces, vpbroadcastw + vcvtph2ps, puts two uops on port 5, the port that also runs the
// 4-bit blocks' vpmovzxbd and vpermps: at batch 1 it set the pace of the Q4 products (`seesaw bench matmul`).
#ifndef SEESAW_F16_TABLE_H
#define SEESAW_F16_TABLE_H
#include <stdint.h>
#include <string.h>

/// The f32 value of the f16 bits h, in portable C (ggml's reference conversion; nan made quiet, as F16C does).
float seesaw_half_to_float(uint16_t h);

/// seesaw_f16_table[h] is the f32 value of the f16 bits h, bit for bit what F16C's vcvtph2ps gives (nan made quiet).
extern float seesaw_f16_table[1 << 16];

/// The f16 at p (any alignment) as f32.
static inline float f16_at(const uint8_t *p) {
  uint16_t h;
  memcpy(&h, p, 2);
  return seesaw_f16_table[h];
}
#endif
