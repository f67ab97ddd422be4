#include <float.h>
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "seesaw_gemm.h"
#include "x16_group.h"

// The f32 path's products with few rows of x against Q8_0, Q4_0, Q4_1, Q4_K and Q6_K weights, on VNNI: each block of 32
// values of x becomes a vector of 31-bit integers X = x / s (s a power of two, 2^29 ≤ max |X| < 2^30), written as four
// signed base-256 digits X = 2^24 X0 + 2^16 X1 + 2^8 X2 + X3, and each digit is dotted with the block's quants by the
// int8 kernels' vpdpbusd (the same 16-row interleaved copy, seesaw_repack_x16). The integer sums are exact; the
// block's sum
//   d_w · s · (2^16 (2^8 Σ q X0 + Σ q X1) + (2^8 Σ q X2 + Σ q X3))
// rounds a few times in f32. An element within a factor 2^6 of the block's largest |x| keeps all its 24 bits (x / s is
// then an integer), a smaller one is rounded by at most 2^-30 of the largest: f32's accuracy even in blocks with an
// outlier (three digits, 24 bits of the largest |x|, gave SmolLM2 a max per-token log-likelihood drift of 1.4e-4 at
// batch 1, four give 5.8e-5, f32 FMAs 4.8e-5). With rows in their file layout an f32 block costs 7 vector instructions
// per row (a table, two lookups, two FMAs, two index steps); here 16 rows share each instruction, so batch-1 decode
// reads the weights at the memory's speed instead of waiting on ports 0 and 5.

#define VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,f16c,fma")))

// Blocks whose largest |x| is below 2^-96 count as zero (1 / s would not fit in f32).
#define TINY 0x1p-96f

// Bytes of the copy each block's lines are asked for ahead of their use. A stream of 36 GB/s a core, as the Zen 5
// host gives in its fast minutes, outruns 4 KiB of lead: batch-1 decode, 4 KiB vs 8 KiB alternated step by step in
// one process, was 7-11% faster with 8 KiB where the read probe gave 63-67 GB/s between the steps (TinyLlama Q4_0,
// Q4_K_M; Q8_0 4%), and 0-3% slower where it gave 39-46 (SmolLM2 Q4_1 even to 3% slower). No prefetch at all is 26-30%
// slower; 16 KiB, or a second prefetch into L2 12 KiB ahead, no better than 8 KiB.
#define DIGITS_PREFETCH 8192

// The eight integer sums of a block's digits, v = {X0..X3 of elements 0-15, X0..X3 of elements 16-31} (16 lanes
// each), as lanes 0-7: halves of pairs added, then quarters, then the four lanes left of each in a 128-bit lane.
// With this and the exponent taken from amax's bits (ilogbf and ldexpf were calls), encoding 576 values took 0.26 µs
// instead of 0.41 (the same bits): at 16 rows of SmolLM2 it was 5% of a decode step, on the caller alone.
VNNI static inline __m256i digit_sums(const __m512i v[8]) {
  __m512i pairs[4];  // [v_2i's 8 partial sums | v_2i+1's 8]
  for (int i = 0; i < 4; i++)
    pairs[i] = _mm512_add_epi32(_mm512_shuffle_i64x2(v[2 * i], v[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                                _mm512_shuffle_i64x2(v[2 * i], v[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2)));
  __m512i quads[2];  // 128-bit lane j: v_4i+j's 4 partial sums
  for (int i = 0; i < 2; i++) {
    __m512i a = pairs[2 * i], b = pairs[2 * i + 1];
    quads[i] = _mm512_add_epi32(_mm512_shuffle_i64x2(a, b, _MM_SHUFFLE(2, 0, 2, 0)),
                                _mm512_shuffle_i64x2(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
    quads[i] = _mm512_add_epi32(quads[i], _mm512_shuffle_epi32(quads[i], _MM_PERM_BADC));
    quads[i] = _mm512_add_epi32(quads[i], _mm512_shuffle_epi32(quads[i], _MM_PERM_CDAB));
  }
  const __m512i first = _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 0, 0, 0, 0, 0, 0, 0, 0);
  return _mm512_castsi512_si256(_mm512_permutex2var_epi32(quads[0], first, quads[1]));
}

VNNI void seesaw_encode_digits(const float *x, long k, long row0, long rows, signed char *xd, seesaw_digits_aux *aux) {
  const long blocks = k / 32;
  for (long i = row0; i < row0 + rows; i++) {
    for (long b = 0; b < blocks; b++) {
      const float *v = x + i * k + b * 32;
      int8_t *out = (int8_t *)xd + (i * blocks + b) * 128;
      seesaw_digits_aux *a = aux + i * blocks + b;
      __m512 lo = _mm512_loadu_ps(v), hi = _mm512_loadu_ps(v + 16);
      float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(lo), _mm512_abs_ps(hi)));
      a->sum = _mm512_reduce_add_ps(_mm512_add_ps(lo, hi));
      // inf or NaN (vmaxps drops a NaN; the sum keeps it): a block that is not finite; tiny: zero digits
      int finite = isfinite(a->sum) && amax <= FLT_MAX;
      if (!finite || amax < TINY) {
        a->scale = finite ? 0 : NAN;
        for (int t = 0; t < 128; t++) out[t] = 0;
        for (int d = 0; d < 4; d++) a->minus8[d] = a->minus128[d] = a->minus128lo[d] = 0;
        continue;
      }
      // 1 / s = 2^(29 - e) for amax's exponent e (a normal number here: ilogbf's), built from the bits
      uint32_t bits;
      memcpy(&bits, &amax, 4);
      const int e = (int)((bits >> 23) & 0xFF) - 127;
      const uint32_t inv_bits = (uint32_t)(127 + 29 - e) << 23, scale_bits = (uint32_t)(127 + e - 29) << 23;
      float inv;
      memcpy(&inv, &inv_bits, 4);
      memcpy(&a->scale, &scale_bits, 4);
      __m512i digits[8];  // X0..X3 of elements 0-15, then of 16-31
      for (int h = 0; h < 2; h++) {
        __m512i r = _mm512_cvtps_epi32(_mm512_mul_ps(h ? hi : lo, _mm512_set1_ps(inv)));  // exact, then nearest
        for (int d = 3; d > 0; d--) {
          digits[4 * h + d] = _mm512_srai_epi32(_mm512_slli_epi32(r, 24), 24);  // r mod 256, from -128 to 127
          r = _mm512_srai_epi32(_mm512_sub_epi32(r, digits[4 * h + d]), 8);
        }
        digits[4 * h] = r;  // |r| ≤ 64
      }
      for (int d = 0; d < 4; d++) {
        _mm_storeu_si128((__m128i *)(out + 32 * d), _mm512_cvtepi32_epi8(digits[d]));
        _mm_storeu_si128((__m128i *)(out + 32 * d + 16), _mm512_cvtepi32_epi8(digits[4 + d]));
      }
      const __m256i sums = digit_sums(digits);
      const __m128i low = _mm256_castsi256_si128(sums), all = _mm_add_epi32(low, _mm256_extracti128_si256(sums, 1));
      _mm_storeu_si128((__m128i *)a->minus8, _mm_sub_epi32(_mm_setzero_si128(), _mm_slli_epi32(all, 3)));
      _mm_storeu_si128((__m128i *)a->minus128, _mm_sub_epi32(_mm_setzero_si128(), _mm_slli_epi32(all, 7)));
      _mm_storeu_si128((__m128i *)a->minus128lo, _mm_sub_epi32(_mm_setzero_si128(), _mm_slli_epi32(low, 7)));
    }
  }
}

// 2^16 (2^8 S0 + S1) + (2^8 S2 + S3) for the digits' integer sums S_d: 2^8 S0 + S1 (and S2, S3) is below 2^24 for
// 4-bit quants, so exact in f32 (8-bit ones, and q6_K's halves: rounded once).
VNNI static inline __m512 combine_digits(const __m512i sums[4]) {
  __m512i high = _mm512_add_epi32(_mm512_slli_epi32(sums[0], 8), sums[1]);
  __m512i low = _mm512_add_epi32(_mm512_slli_epi32(sums[2], 8), sums[3]);
  return _mm512_fmadd_ps(_mm512_cvtepi32_ps(high), _mm512_set1_ps(65536.0f), _mm512_cvtepi32_ps(low));
}

// One block of a group of 16 weight rows against one row of x: each digit's dot product runs as two chains of 4
// vpdpbusd (columns 0-15 and 16-31, eight chains in all, so that the latency of 5 hides behind the other chains),
// starting from the weights' offset times the digit's sum (u = q + offset: Σ u X - offset Σ X = Σ q X). q6_K's
// halves have scales of their own (lo_w, hi_w), so its two chains are combined and scaled apart.
VNNI __attribute__((always_inline)) static inline __m512 block_row(int dtype, const __m512i w[8], __m512 dw, __m512 mw,
                                                                   __m512 lo_w, __m512 hi_w, const int8_t *xb8,
                                                                   const seesaw_digits_aux *a, __m512 acc) {
  const int32_t *xb = (const int32_t *)xb8;  // [4][8] quads of digits
  __m512i first[4], second[4];
  for (int d = 0; d < 4; d++) {
    first[d] = _mm512_set1_epi32(dtype == 3 ? a->minus128[d] : dtype == 4 ? a->minus8[d] : 0);
    second[d] = _mm512_setzero_si512();
    if (dtype == 7) {  // the offset of each half in its own chain (u = q + 32)
      first[d] = _mm512_set1_epi32(a->minus128lo[d] / 4);
      second[d] = _mm512_set1_epi32((a->minus128[d] - a->minus128lo[d]) / 4);
    }
  }
  for (int j = 0; j < 4; j++) {
    for (int d = 0; d < 4; d++) {
      first[d] = _mm512_dpbusd_epi32(first[d], w[j], _mm512_set1_epi32(xb[8 * d + j]));
      second[d] = _mm512_dpbusd_epi32(second[d], w[4 + j], _mm512_set1_epi32(xb[8 * d + 4 + j]));
    }
  }
  if (dtype == 7) {
    __m512 v = _mm512_fmadd_ps(combine_digits(first), lo_w, _mm512_mul_ps(combine_digits(second), hi_w));
    return _mm512_fmadd_ps(v, _mm512_set1_ps(a->scale), acc);
  }
  __m512i sums[4];
  for (int d = 0; d < 4; d++) sums[d] = _mm512_add_epi32(first[d], second[d]);
  acc = _mm512_fmadd_ps(_mm512_mul_ps(combine_digits(sums), _mm512_set1_ps(a->scale)), dw, acc);
  if (dtype == 5 || dtype == 6) acc = _mm512_fmadd_ps(mw, _mm512_set1_ps(a->sum), acc);  // m · Σx
  return acc;
}

// One group of 16 weight rows against T (1 or 2) rows of x, whose digits and aux lie `blocks` blocks apart: each
// block's weights are unpacked and its scales converted once for the T rows (a pair of rows shares the loads, the
// nibble masks and the scales' conversions, ~12 of the ~60 instructions per block and row), and each row's sums run
// as in a product of its own, so every row of y gets the same bits whether it came in a pair or alone.
VNNI __attribute__((always_inline)) static inline void group_rows(int dtype, const uint8_t *q, const uint16_t *s,
                                                                  long blocks, const int8_t *xd,
                                                                  const seesaw_digits_aux *aux, int T, float *y,
                                                                  long ldy, long valid) {
  const long qb = x16_quant_bytes(dtype), sb = x16_scale_halves(dtype);
  const int bytes = dtype == 3;  // quants of 8 bits (stored as q + 128); q6_K's in bit planes, else nibbles
  const __m512i nibble = _mm512_set1_epi8(15);
  __m512 acc[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
  for (long b = 0; b < blocks; b++) {
    const uint8_t *qp = q + b * qb;
    for (long l = 0; l < qb; l += 64) _mm_prefetch((const char *)qp + DIGITS_PREFETCH + l, _MM_HINT_T0);
    __m512i w[8];
    if (bytes) {
      for (int j = 0; j < 8; j++) w[j] = _mm512_loadu_si512((const void *)(qp + 64 * j));
    } else if (dtype == 7) {
      x16_q6_K_weights(qp, w);
    } else {
      for (int j = 0; j < 4; j++) {
        __m512i v = _mm512_loadu_si512((const void *)(qp + 64 * j));
        w[j] = _mm512_and_si512(v, nibble);
        w[4 + j] = _mm512_and_si512(_mm512_srli_epi16(v, 4), nibble);
      }
    }
    __m512 dw, mw, lo_w = _mm512_setzero_ps(), hi_w = _mm512_setzero_ps();
    x16_block_scales(dtype, s, b, &dw, &mw);
    if (dtype == 7) {  // d · sc of each half (exact in f32: 11 by 8 significant bits)
      const int8_t *sc = x16_q6_K_scales(s, b);
      lo_w = _mm512_mul_ps(dw, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)sc))));
      hi_w = _mm512_mul_ps(dw, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(sc + 16)))));
    }
    for (int t = 0; t < T; t++)
      acc[t] = block_row(dtype, w, dw, mw, lo_w, hi_w, xd + (t * blocks + b) * 128, aux + t * blocks + b, acc[t]);
  }
  __mmask16 mask = valid >= 16 ? 0xFFFF : (__mmask16)((1u << valid) - 1);
  for (int t = 0; t < T; t++) _mm512_mask_storeu_ps(y + t * ldy, mask, acc[t]);
}

#define DIGITS_GROUPS(NAME, DT)                                                                                    \
  VNNI static void digits_##NAME(const uint8_t *quants, const uint16_t *scales, long rows, long group0,            \
                                 long groups, const int8_t *xd, const seesaw_digits_aux *aux, long k, long m,      \
                                 float *y, long ldy) {                                                             \
    long blocks = k / 32;                                                                                          \
    for (long g = group0; g < group0 + groups; g++) {                                                              \
      x16_group at = x16_group_at(DT, quants, scales, rows, k, g);                                                 \
      long i = 0; /* rows of x in pairs; the group's weights stay in L1/L2 between pairs */                        \
      for (; i + 2 <= m; i += 2)                                                                                   \
        group_rows(DT, at.quants, at.scales, blocks, xd + i * blocks * 128, aux + i * blocks, 2,                   \
                   y + i * ldy + g * 16, ldy, at.valid);                                                           \
      if (i < m)                                                                                                   \
        group_rows(DT, at.quants, at.scales, blocks, xd + i * blocks * 128, aux + i * blocks, 1,                   \
                   y + i * ldy + g * 16, ldy, at.valid);                                                           \
    }                                                                                                              \
  }

DIGITS_GROUPS(q8_0, 3)
DIGITS_GROUPS(q4_0, 4)
DIGITS_GROUPS(q4_1, 5)
DIGITS_GROUPS(q4_K, 6)
DIGITS_GROUPS(q6_K, 7)

VNNI void seesaw_gemv_digits_x16(int dtype, const unsigned char *quants, const unsigned short *scales, long rows,
                                 long group0, long groups, const signed char *xd, const seesaw_digits_aux *aux,
                                 long k, long m, float *y, long ldy) {
  switch (dtype) {
  case 3: digits_q8_0(quants, scales, rows, group0, groups, (const int8_t *)xd, aux, k, m, y, ldy); break;
  case 4: digits_q4_0(quants, scales, rows, group0, groups, (const int8_t *)xd, aux, k, m, y, ldy); break;
  case 5: digits_q4_1(quants, scales, rows, group0, groups, (const int8_t *)xd, aux, k, m, y, ldy); break;
  case 6: digits_q4_K(quants, scales, rows, group0, groups, (const int8_t *)xd, aux, k, m, y, ldy); break;
  default: digits_q6_K(quants, scales, rows, group0, groups, (const int8_t *)xd, aux, k, m, y, ldy); break;
  }
}
