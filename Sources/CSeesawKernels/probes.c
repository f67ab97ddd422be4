#include "seesaw_kernels.h"

#include <immintrin.h>

#define ROUNDS12(OP) OP(0) OP(1) OP(2) OP(3) OP(4) OP(5) OP(6) OP(7) OP(8) OP(9) OP(10) OP(11)

__attribute__((target("avx512f,avx512bf16"))) static double bf16_probe(long iterations) {
  __m512bh a = (__m512bh)_mm512_set1_epi16(0x3f80);  // bf16 1.0
  __m512bh b = (__m512bh)_mm512_set1_epi16(0x3400);  // bf16 ~1.2e-7
#define DECL(i) __m512 acc##i = _mm512_set1_ps((float)(i));
  ROUNDS12(DECL)
  for (long r = 0; r < iterations; r++) {
#define STEP(i) acc##i = _mm512_dpbf16_ps(acc##i, a, b);
    ROUNDS12(STEP)
  }
  __m512 sum = _mm512_setzero_ps();
#define SUM(i) sum = _mm512_add_ps(sum, acc##i);
  ROUNDS12(SUM)
  volatile float sink = _mm512_reduce_add_ps(sum);
  (void)sink;
  return (double)iterations * 12.0 * 64.0;
}

__attribute__((target("avx512f,avx512vnni"))) static double int8_probe(long iterations) {
  __m512i a = _mm512_set1_epi8(1);
  __m512i b = _mm512_set1_epi8(2);
#define DECLI(i) __m512i acc##i = _mm512_set1_epi32(i);
  ROUNDS12(DECLI)
  for (long r = 0; r < iterations; r++) {
#define STEPI(i) acc##i = _mm512_dpbusd_epi32(acc##i, a, b);
    ROUNDS12(STEPI)
  }
  __m512i sum = _mm512_setzero_si512();
#define SUMI(i) sum = _mm512_add_epi32(sum, acc##i);
  ROUNDS12(SUMI)
  volatile int sink = _mm512_reduce_add_epi32(sum);
  (void)sink;
  return (double)iterations * 12.0 * 128.0;
}

// Twelve chains of 8-lane FMAs: on AVX2 CPUs the 16-lane chains of Roofline.fmaPeak are register pairs, 24 of
// them for 16 registers, and spill (Zen 3: 37-40 GFLOP/s on one thread, where oneDNN's sgemm ran at 60).
__attribute__((target("avx2,fma"))) static double fma8_probe(long iterations) {
  __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
#define DECLF(i) __m256 acc##i = _mm256_set1_ps((float)(i)*1e-3f);
  ROUNDS12(DECLF)
  for (long r = 0; r < iterations; r++) {
#define STEPF(i) acc##i = _mm256_fmadd_ps(a, b, acc##i);
    ROUNDS12(STEPF)
  }
  __m256 sum = _mm256_setzero_ps();
#define SUMF(i) sum = _mm256_add_ps(sum, acc##i);
  ROUNDS12(SUMF)
  float lanes[8];
  _mm256_storeu_ps(lanes, sum);
  volatile float sink = lanes[0];
  (void)sink;
  return (double)iterations * 12.0 * 16.0;
}

double seesaw_fma8_probe(long iterations) {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return -1;
  return fma8_probe(iterations);
}

double seesaw_bf16_dot_probe(long iterations) {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512bf16")) return -1;
  return bf16_probe(iterations);
}

// The AVX2 int8 kernels' core (gemv_int8_avx2.c): vpmaddubsw (32 byte products, added in pairs) then vpaddw into
// 16-bit sums, twelve chains, each product taking its chain's sum as its signed bytes (so that it stays in the
// loop); 64 operations per pair of instructions.
__attribute__((target("avx2"))) static double int8_avx2_probe(long iterations) {
  __m256i a = _mm256_set1_epi8(1);
#define DECLA(i) __m256i acc##i = _mm256_set1_epi16((short)(i));
  ROUNDS12(DECLA)
  for (long r = 0; r < iterations; r++) {
#define STEPA(i) acc##i = _mm256_add_epi16(acc##i, _mm256_maddubs_epi16(a, acc##i));
    ROUNDS12(STEPA)
  }
  __m256i sum = _mm256_setzero_si256();
#define SUMA(i) sum = _mm256_add_epi16(sum, acc##i);
  ROUNDS12(SUMA)
  volatile int sink = _mm256_extract_epi16(sum, 0);
  (void)sink;
  return (double)iterations * 12.0 * 64.0;
}

double seesaw_int8_dot_probe(long iterations) {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512vnni")) return int8_probe(iterations);
  if (__builtin_cpu_supports("avx2")) return int8_avx2_probe(iterations);
  return -1;
}
