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

// The read probe's inner loop: four independent sums of 512-bit loads, every line also prefetched 4 KiB ahead, as
// the weight kernels fetch their streams (the hardware prefetcher alone read 5-10% less on two threads of the Zen 5
// host, alternated in one process: 45.7 against 50.8 GB/s on average). AVX2: the same on 256-bit loads.
__attribute__((target("avx512f"))) static float read_avx512(const float *p, long n) {
  __m512 a = _mm512_setzero_ps(), b = a, c = a, d = a;
  for (long i = 0; i + 64 <= n; i += 64) {
    const char *line = (const char *)(p + i) + 4096;
    _mm_prefetch(line, _MM_HINT_T0);
    _mm_prefetch(line + 64, _MM_HINT_T0);
    _mm_prefetch(line + 128, _MM_HINT_T0);
    _mm_prefetch(line + 192, _MM_HINT_T0);
    a = _mm512_add_ps(a, _mm512_loadu_ps(p + i));
    b = _mm512_add_ps(b, _mm512_loadu_ps(p + i + 16));
    c = _mm512_add_ps(c, _mm512_loadu_ps(p + i + 32));
    d = _mm512_add_ps(d, _mm512_loadu_ps(p + i + 48));
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a, b), _mm512_add_ps(c, d)));
}

__attribute__((target("avx2"))) static float read_avx2(const float *p, long n) {
  __m256 s[8];
  for (int j = 0; j < 8; j++) s[j] = _mm256_setzero_ps();
  for (long i = 0; i + 64 <= n; i += 64) {
    const char *line = (const char *)(p + i) + 4096;
    for (int l = 0; l < 4; l++) _mm_prefetch(line + 64 * l, _MM_HINT_T0);
    for (int j = 0; j < 8; j++) s[j] = _mm256_add_ps(s[j], _mm256_loadu_ps(p + i + 8 * j));
  }
  for (int j = 1; j < 8; j++) s[0] = _mm256_add_ps(s[0], s[j]);
  float lanes[8];
  _mm256_storeu_ps(lanes, s[0]);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7];
}

float seesaw_read_probe(const float *p, long n) {
  static int level = -1;  // 2: AVX-512, 1: AVX2, 0: neither
  if (level < 0) {
    __builtin_cpu_init();
    level = __builtin_cpu_supports("avx512f") ? 2 : __builtin_cpu_supports("avx2") ? 1 : 0;
  }
  if (level == 2) return read_avx512(p, n);
  if (level == 1) return read_avx2(p, n);
  float s[4] = {0, 0, 0, 0};
  for (long i = 0; i < n; i++) s[i % 4] += p[i];
  return s[0] + s[1] + s[2] + s[3];
}
