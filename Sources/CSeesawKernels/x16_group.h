// Groups of 16 rows in the interleaved copy of a weight matrix (seesaw_repack_x16), as the int8 and the digits
// kernels walk them.
#ifndef SEESAW_X16_GROUP_H
#define SEESAW_X16_GROUP_H
#include <immintrin.h>
#include <stdint.h>

#include "seesaw_gemm.h"

/// Bytes of quants and halves of scales per group and block (seesaw_x16_quant_bytes / seesaw_x16_scale_halves),
/// inline so that kernels specialised for a dtype fold them. q6_K's quants are the file's 6 bits as 4 + 2
/// (`x16_q6_K_weights`), 384 bytes; the K-quants' scales come per super-block of 8 blocks (`x16_q4_K_record`, 160
/// halves, 20 a block; `x16_q6_K_record`, 144 halves, 18 a block).
static inline long x16_quant_bytes(int dtype) { return dtype == 3 ? 512 : dtype == 7 ? 384 : 256; }
static inline long x16_scale_halves(int dtype) { return dtype == 6 ? 20 : dtype == 7 ? 18 : dtype == 5 ? 32 : 16; }

/// The scales of the q4_K super-block that holds block b of a group (`s`: the group's scales), as in the file: the 16
/// rows' d [16 halves], dmin [16 halves], then per sub-block j = b % 8 their 6-bit sc [16 bytes] and m [16 bytes] at
/// byte 64 + 32 j. 2.5 bytes per row and sub-block where the file has 2 (the copy is 3% bigger than the file's
/// 4.5 bits a weight; with d and dmin for every sub-block it was 22%).
static inline const uint16_t *x16_q4_K_record(const uint16_t *s, long b) { return s + b / 8 * 160; }

/// The scales of the q6_K super-block that holds block b of a group: the 16 rows' d [16 halves], then per block
/// j = b % 8 the 16-element scales of its two halves, sc_lo [16 bytes] and sc_hi [16 bytes], at byte 32 + 32 j: 2.25
/// bytes per row and block, as the file's 18 bytes per 256 values (with d for every block: 4).
static inline const uint16_t *x16_q6_K_record(const uint16_t *s, long b) { return s + b / 8 * 144; }

/// The scales of block b of a group (`s`: the group's scales): its super-block's record for the K-quants, else its
/// own.
static inline const uint16_t *x16_block_record(int dtype, const uint16_t *s, long b) {
  return dtype == 6 ? x16_q4_K_record(s, b) : dtype == 7 ? x16_q6_K_record(s, b) : s + b * x16_scale_halves(dtype);
}

/// The 16-element scales sc_lo [16] and sc_hi [16] of q6_K block b (signed bytes).
static inline const int8_t *x16_q6_K_scales(const uint16_t *s, long b) {
  return (const int8_t *)(x16_q6_K_record(s, b) + 16) + 32 * (b % 8);
}

/// The 8 vectors of 64 bytes of a q6_K block of a group, as the 8-bit formats lay them out (vector j: the 16 rows'
/// columns 4j..4j+3, 4 bytes a row) and holding u = q + 32 (0...63), from the copy's 384 bytes: 4 vectors of low
/// nibbles (vector j: columns of w[j] in the low nibble, of w[4 + j] in the high one, as the 4-bit formats) and 2 of
/// high bits (vector h: the top 2 bits of w[4h + i] at bits 2i, 2i + 1 of each byte).
__attribute__((target("avx512f,avx512bw"))) static inline void x16_q6_K_weights(const uint8_t *qp, __m512i w[8]) {
  const __m512i low = _mm512_set1_epi8(15), top = _mm512_set1_epi8(0x30);
  for (int j = 0; j < 4; j++) {
    __m512i v = _mm512_loadu_si512((const void *)(qp + 64 * j));
    w[j] = _mm512_and_si512(v, low);
    w[4 + j] = _mm512_and_si512(_mm512_srli_epi16(v, 4), low);
  }
  for (int h = 0; h < 2; h++) {
    __m512i v = _mm512_loadu_si512((const void *)(qp + 256 + 64 * h));
    // bits 2i, 2i + 1 of each byte to bits 4, 5 (shifts of 16-bit lanes: the bits that cross into the other byte of
    // a lane land outside 0x30); w | (v' & 0x30) in one ternary op
    w[4 * h + 0] = _mm512_ternarylogic_epi32(w[4 * h + 0], _mm512_slli_epi16(v, 4), top, 0xF8);
    w[4 * h + 1] = _mm512_ternarylogic_epi32(w[4 * h + 1], _mm512_slli_epi16(v, 2), top, 0xF8);
    w[4 * h + 2] = _mm512_ternarylogic_epi32(w[4 * h + 2], v, top, 0xF8);
    w[4 * h + 3] = _mm512_ternarylogic_epi32(w[4 * h + 3], _mm512_srli_epi16(v, 2), top, 0xF8);
  }
}

typedef struct {
  const uint8_t *quants;    // [k / 32][quant bytes]
  const uint16_t *scales;   // [k / 32][scale halves]
  long valid;               // rows of the 16 that the matrix has (the last group may be partial)
} x16_group;

/// Group g of the copy of a `rows` x k matrix of `dtype` (seesaw_gemv codes).
static inline x16_group x16_group_at(int dtype, const uint8_t *quants, const uint16_t *scales, long rows, long k,
                                     long g) {
  long blocks = k / 32;
  return (x16_group){quants + g * blocks * x16_quant_bytes(dtype), scales + g * blocks * x16_scale_halves(dtype),
                     rows - g * 16 < 16 ? rows - g * 16 : 16};
}

/// The record of a block of x quantized with scale d whose quants add up to lo_sum (elements 0..15) and hi_sum.
static inline seesaw_q8_aux q8_aux_record(float d, int32_t lo_sum, int32_t hi_sum) {
  int32_t sum = lo_sum + hi_sum;
  return (seesaw_q8_aux){.d = d,
                         .minus8sum = -8 * sum,
                         .minus128sum = -128 * sum,
                         .dsum = d * (float)sum,
                         .minus128lo = -128 * lo_sum,
                         .minus128hi = -128 * hi_sum};
}

/// The 16 rows' weight scale dw and minimum mw of block b of a group (`s`: its scales) for the formats with a
/// minimum, 5 q4_1 (f16 d and m) and 6 q4_K (d · sc and -(dmin · m) from f16 d, dmin and 6-bit sc, m: exact in f32);
/// for the others dw is the f16 d (q6_K's per super-block) and mw is not used.
__attribute__((target("avx512f,f16c"))) static inline void x16_block_scales(int dtype, const uint16_t *s, long b,
                                                                            __m512 *dw, __m512 *mw) {
  const uint16_t *sp = x16_block_record(dtype, s, b);
  *dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)sp));
  *mw = *dw;
  if (dtype == 5) *mw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(sp + 16)));
  if (dtype == 6) {
    const uint8_t *scm = (const uint8_t *)(sp + 32) + 32 * (b % 8);  // sc [16], m [16]
    __m512 dmin = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(sp + 16)));
    __m512 sc = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)scm)));
    __m512 m = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(scm + 16))));
    *dw = _mm512_mul_ps(*dw, sc);
    *mw = _mm512_sub_ps(_mm512_setzero_ps(), _mm512_mul_ps(dmin, m));
  }
}
#endif
