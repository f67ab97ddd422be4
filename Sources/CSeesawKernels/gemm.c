#include <immintrin.h>

#include "avx2_blocks.h"
#include "seesaw_gemm.h"
#include "tile_store.h"

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,f16c,fma")))

int seesaw_gemm_available(void) {
  static int cached = -1;
  if (cached < 0) {
    __builtin_cpu_init();
    cached = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("f16c") && __builtin_cpu_supports("fma");
  }
  return cached;
}

int seesaw_cpu_is_amd(void) {
  static int cached = -1;
  if (cached < 0) {
    __builtin_cpu_init();
    cached = __builtin_cpu_is("amd");
  }
  return cached;
}

// ---- packing --------------------------------------------------------------------------------------------------

// 16 x 16 transpose in registers: unpack 32-bit and 64-bit pairs inside 128-bit lanes, then a 4 x 4 transpose of
// the lanes themselves (r[4i + c] holds rows 4i..4i+3 of column 4L + c in lane L after the first two stages).
AVX512 static inline void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; i++) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; i++) {
    __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
    __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
    r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  for (int c = 0; c < 4; c++) {
    __m512 a0 = r[c], a1 = r[4 + c], a2 = r[8 + c], a3 = r[12 + c];
    __m512 u0 = _mm512_shuffle_f32x4(a0, a1, 0x44), u1 = _mm512_shuffle_f32x4(a0, a1, 0xEE);
    __m512 u2 = _mm512_shuffle_f32x4(a2, a3, 0x44), u3 = _mm512_shuffle_f32x4(a2, a3, 0xEE);
    t[c] = _mm512_shuffle_f32x4(u0, u2, 0x88);
    t[4 + c] = _mm512_shuffle_f32x4(u0, u2, 0xDD);
    t[8 + c] = _mm512_shuffle_f32x4(u1, u3, 0x88);
    t[12 + c] = _mm512_shuffle_f32x4(u1, u3, 0xDD);
  }
  for (int i = 0; i < 16; i++) r[i] = t[i];
}

AVX512 static void pack_avx512(const float *rows, long ldr, long n, long k, float *panel) {
  long t = 0;
  for (; t + 16 <= k; t += 16) {
    for (int h = 0; h < 2; h++) {
      __m512 r[16];
      for (int i = 0; i < 16; i++) {
        long row = 16 * h + i;
        r[i] = row < n ? _mm512_loadu_ps(rows + row * ldr + t) : _mm512_setzero_ps();
      }
      transpose16(r);
      for (int j = 0; j < 16; j++) _mm512_storeu_ps(panel + (t + j) * SEESAW_PANEL + 16 * h, r[j]);
    }
  }
  for (; t < k; t++)
    for (long row = 0; row < SEESAW_PANEL; row++) panel[t * SEESAW_PANEL + row] = row < n ? rows[row * ldr + t] : 0;
}

void seesaw_pack_panel(const float *rows, long ldr, long n, long k, float *panel) {
  if (seesaw_gemm_available()) return pack_avx512(rows, ldr, n, k, panel);
  for (long t = 0; t < k; t++)
    for (long row = 0; row < SEESAW_PANEL; row++) panel[t * SEESAW_PANEL + row] = row < n ? rows[row * ldr + t] : 0;
}

// ---- the 8 x 32 register tile ---------------------------------------------------------------------------------

// MR rows of a against one panel: 2 * MR accumulators, two panel loads and MR broadcasts per k.
#define TILE(MR)                                                                                                    \
  AVX512 static void tile##MR(const float *a, long lda, const float *p, long k, float *c, long ldc,             \
                              __mmask16 m0, __mmask16 m1, int accumulate) {                                      \
    __m512 acc[MR][2];                                                                                           \
    for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();                                     \
    for (long t = 0; t < k; t++) {                                                                               \
      __m512 b0 = _mm512_loadu_ps(p + t * SEESAW_PANEL), b1 = _mm512_loadu_ps(p + t * SEESAW_PANEL + 16);        \
      for (int i = 0; i < MR; i++) {                                                                             \
        __m512 x = _mm512_set1_ps(a[i * lda + t]);                                                               \
        acc[i][0] = _mm512_fmadd_ps(x, b0, acc[i][0]);                                                           \
        acc[i][1] = _mm512_fmadd_ps(x, b1, acc[i][1]);                                                           \
      }                                                                                                          \
    }                                                                                                            \
    for (int i = 0; i < MR; i++) store_tile_row(c + i * ldc, acc[i][0], acc[i][1], m0, m1, accumulate);          \
  }

TILE(8)
TILE(4)
TILE(2)
TILE(1)

AVX512 static void gemm_panel_avx512(const float *a, long lda, const float *p, long k, float *c, long ldc, long m,
                                     long n, int accumulate) {
  __mmask16 m0, m1;
  tile_masks(n, &m0, &m1);
  long i = 0;
  for (; i + 8 <= m; i += 8) tile8(a + i * lda, lda, p, k, c + i * ldc, ldc, m0, m1, accumulate);
  if (i + 4 <= m) {
    tile4(a + i * lda, lda, p, k, c + i * ldc, ldc, m0, m1, accumulate);
    i += 4;
  }
  if (i + 2 <= m) {
    tile2(a + i * lda, lda, p, k, c + i * ldc, ldc, m0, m1, accumulate);
    i += 2;
  }
  if (i < m) tile1(a + i * lda, lda, p, k, c + i * ldc, ldc, m0, m1, accumulate);
}

void seesaw_gemm_panel(const float *a, long lda, const float *panel, long k, float *c, long ldc, long m, long n,
                       int accumulate) {
  if (seesaw_gemm_available()) return gemm_panel_avx512(a, lda, panel, k, c, ldc, m, n, accumulate);
  for (long i = 0; i < m; i++)
    for (long j = 0; j < n; j++) {
      float s = 0;
      for (long t = 0; t < k; t++) s += a[i * lda + t] * panel[t * SEESAW_PANEL + j];
      c[i * ldc + j] = accumulate ? c[i * ldc + j] + s : s;
    }
}

// ---- weights in rows, activations packed --------------------------------------------------------------------

// Token i's 8 outputs, one 256-bit row of y: stored, or added to what y holds; tokens past `tokens` are padding.
AVX512 static inline void store_token8(float *y, long ldy, long i, __m256 v, long tokens, int accumulate) {
  if (i >= tokens) return;
  float *p = y + i * ldy;
  if (accumulate) v = _mm256_add_ps(v, _mm256_loadu_ps(p));
  _mm256_storeu_ps(p, v);
}

// a[r] holds weight row r's outputs for 16 tokens; y[i * ldy + r] (+)= a[r][i] for i < tokens (≤ 16): an 8 x 16
// transpose in registers (24 shuffles) instead of 128 scalar read-modify-writes.
AVX512 static inline void store_transposed8(const __m512 a[8], float *y, long ldy, long tokens, int accumulate) {
  // t: rows 2p and 2p+1 interleaved inside each 128-bit lane L (tokens 4L..4L+3).
  __m512 t[8];
  for (int p = 0; p < 4; p++) {
    t[2 * p] = _mm512_unpacklo_ps(a[2 * p], a[2 * p + 1]);
    t[2 * p + 1] = _mm512_unpackhi_ps(a[2 * p], a[2 * p + 1]);
  }
  // u[j] lane L: rows 0-3 of token 4L + j; u[4 + j]: rows 4-7.
  __m512 u[8];
  for (int h = 0; h < 2; h++) {
    u[4 * h] = _mm512_shuffle_ps(t[4 * h], t[4 * h + 2], 0x44);
    u[4 * h + 1] = _mm512_shuffle_ps(t[4 * h], t[4 * h + 2], 0xEE);
    u[4 * h + 2] = _mm512_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0x44);
    u[4 * h + 3] = _mm512_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0xEE);
  }
  // Lanes (L of u[j], L of u[4 + j]) make token 4L + j's 8 rows.
  const __m512i lo = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
  const __m512i hi = _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
  for (int j = 0; j < 4; j++) {
    __m512 t01 = _mm512_permutex2var_ps(u[j], lo, u[4 + j]);  // tokens j, 4 + j
    __m512 t23 = _mm512_permutex2var_ps(u[j], hi, u[4 + j]);  // tokens 8 + j, 12 + j
    store_token8(y, ldy, j, _mm512_castps512_ps256(t01), tokens, accumulate);
    store_token8(y, ldy, 4 + j, _mm512_extractf32x8_ps(t01, 1), tokens, accumulate);
    store_token8(y, ldy, 8 + j, _mm512_castps512_ps256(t23), tokens, accumulate);
    store_token8(y, ldy, 12 + j, _mm512_extractf32x8_ps(t23, 1), tokens, accumulate);
  }
}

// The k loop of both tile kinds: acc[r][v] += w[r][t] · xp[t][16 v ...] for t < k (w, ldw, xp, k in scope).
// The rows' offsets r · ldw are hidden from the compiler (an empty asm), so it keeps one register per row and indexes
// them with t: 3 integer instructions per k (perf annotate). With w[r * ldw + t] it rebuilt the 8 row addresses
// from ldw inside the loop, 9 integer instructions per k, which share ports 0 and 5 with the 16 FMAs.
#define TILE_FMA_LOOP(WR, TV)                                                                                          \
  {                                                                                                                    \
    long off[WR];                                                                                                      \
    for (int r = 0; r < WR; r++) {                                                                                     \
      off[r] = r * ldw;                                                                                                \
      __asm__("" : "+r"(off[r])); /* opaque: the compiler cannot rebuild it from ldw inside the loop */                \
    }                                                                                                                  \
    const float *wt = w, *xt = xp;                                                                                     \
    for (long t = 0; t < k; t++, wt++, xt += SEESAW_PANEL) {                                                           \
      __m512 x[TV];                                                                                                    \
      for (int v = 0; v < TV; v++) x[v] = _mm512_loadu_ps(xt + 16 * v);                                               \
      for (int r = 0; r < WR; r++) {                                                                                   \
        __m512 wv = _mm512_set1_ps(wt[off[r]]);                                                                        \
        for (int v = 0; v < TV; v++) acc[r][v] = _mm512_fmadd_ps(wv, x[v], acc[r][v]);                                 \
      }                                                                                                                \
    }                                                                                                                  \
  }

// The finished tile written to y[token][row] (+= when `accumulate`) for tokens < `tokens`, then return: an 8-row
// tile through the register transpose, fewer rows through a scratch tile.
#define TILE_STORE_Y(WR, TV, accumulate)                                                                               \
  if (WR == 8) { /* r % WR below: dead for other WR, but it must compile */                                            \
    for (int v = 0; v < TV; v++) {                                                                                     \
      __m512 rows[8];                                                                                                  \
      for (int r = 0; r < 8; r++) rows[r] = acc[r % WR][v];                                                            \
      store_transposed8(rows, y + 16 * v * ldy, ldy, tokens - 16 * v, accumulate);                                     \
    }                                                                                                                  \
    return;                                                                                                            \
  }                                                                                                                    \
  float tile[WR][32] __attribute__((aligned(64)));                                                                     \
  for (int r = 0; r < WR; r++)                                                                                         \
    for (int v = 0; v < TV; v++) _mm512_store_ps(&tile[r][16 * v], acc[r][v]);                                         \
  for (long i = 0; i < tokens; i++)                                                                                    \
    for (int r = 0; r < WR; r++) y[i * ldy + r] = (accumulate) ? y[i * ldy + r] + tile[r][i] : tile[r][i];             \
  return;

// WR weight rows against TV * 16 tokens of packed x ([k][32], token-minor): broadcast w[r][t], two token vectors.
// The result is the transposed tile (rows x tokens), written to y[token][row].
#define WTILE(WR, TV)                                                                                                  \
  AVX512 static void wtile##WR##x##TV(const float *w, long ldw, const float *xp, long k, float *y, long ldy,           \
                                      long tokens, int accumulate) {                                                   \
    __m512 acc[WR][TV];                                                                                                \
    for (int r = 0; r < WR; r++)                                                                                       \
      for (int v = 0; v < TV; v++) acc[r][v] = _mm512_setzero_ps();                                                    \
    TILE_FMA_LOOP(WR, TV)                                                                                              \
    TILE_STORE_Y(WR, TV, accumulate)                                                                                   \
  }

WTILE(8, 2)
WTILE(4, 2)
WTILE(2, 2)
WTILE(1, 2)
WTILE(8, 1)
WTILE(4, 1)
WTILE(2, 1)
WTILE(1, 1)

AVX512 static void gemm_rows_avx512(const float *w, long ldw, long nr, const float *xp, long k, long tokens,
                                    float *y, long ldy, int acc) {
  long r = 0;
  if (tokens > 16) {
    for (; r + 8 <= nr; r += 8) wtile8x2(w + r * ldw, ldw, xp, k, y + r, ldy, tokens, acc);
    if (r + 4 <= nr) { wtile4x2(w + r * ldw, ldw, xp, k, y + r, ldy, tokens, acc); r += 4; }
    if (r + 2 <= nr) { wtile2x2(w + r * ldw, ldw, xp, k, y + r, ldy, tokens, acc); r += 2; }
    if (r < nr) wtile1x2(w + r * ldw, ldw, xp, k, y + r, ldy, tokens, acc);
  } else {
    for (; r + 8 <= nr; r += 8) wtile8x1(w + r * ldw, ldw, xp, k, y + r, ldy, tokens, acc);
    if (r + 4 <= nr) { wtile4x1(w + r * ldw, ldw, xp, k, y + r, ldy, tokens, acc); r += 4; }
    if (r + 2 <= nr) { wtile2x1(w + r * ldw, ldw, xp, k, y + r, ldy, tokens, acc); r += 2; }
    if (r < nr) wtile1x1(w + r * ldw, ldw, xp, k, y + r, ldy, tokens, acc);
  }
}

// gemm_avx2.c: the same product on AVX2 CPUs without AVX-512.
void seesaw_gemm_rows_avx2(const float *w, long ldw, long nr, const float *xp, long k, long tokens, float *y,
                           long ldy, int accumulate);

void seesaw_gemm_rows(const float *w, long ldw, long nr, const float *xp, long k, long tokens, float *y, long ldy,
                      int accumulate) {
  if (seesaw_gemm_available()) return gemm_rows_avx512(w, ldw, nr, xp, k, tokens, y, ldy, accumulate);
  if (seesaw_has_avx2()) return seesaw_gemm_rows_avx2(w, ldw, nr, xp, k, tokens, y, ldy, accumulate);
  for (long i = 0; i < tokens; i++)
    for (long r = 0; r < nr; r++) {
      float s = 0;
      for (long t = 0; t < k; t++) s += w[r * ldw + t] * xp[t * SEESAW_PANEL + i];
      y[i * ldy + r] = accumulate ? y[i * ldy + r] + s : s;
    }
}

// ---- K blocks summed in an untransposed scratch tile ----------------------------------------------------------

// WR weight rows against TV * 16 tokens, as wtile, but the sums of earlier K blocks come from (phase & 1) and go
// back to scratch [WR][32]; the last block (phase & 2) writes y instead.
#define STILE(WR, TV)                                                                                                  \
  AVX512 static void stile##WR##x##TV(const float *w, long ldw, const float *xp, long k, float *s, int phase,          \
                                      float *y, long ldy, long tokens) {                                               \
    __m512 acc[WR][TV];                                                                                                \
    for (int r = 0; r < WR; r++)                                                                                       \
      for (int v = 0; v < TV; v++) acc[r][v] = (phase & 1) ? _mm512_load_ps(s + 32 * r + 16 * v)                       \
                                                            : _mm512_setzero_ps();                                     \
    TILE_FMA_LOOP(WR, TV)                                                                                              \
    if (!(phase & 2)) {                                                                                                \
      for (int r = 0; r < WR; r++)                                                                                     \
        for (int v = 0; v < TV; v++) _mm512_store_ps(s + 32 * r + 16 * v, acc[r][v]);                                  \
      return;                                                                                                          \
    }                                                                                                                  \
    TILE_STORE_Y(WR, TV, 0)                                                                                            \
  }

STILE(8, 2)
STILE(4, 2)
STILE(2, 2)
STILE(1, 2)
STILE(8, 1)
STILE(4, 1)
STILE(2, 1)
STILE(1, 1)

AVX512 static void gemm_rows_scratch_avx512(const float *w, long ldw, long nr, const float *xp, long k, long tokens,
                                            float *s, int phase, float *y, long ldy) {
  long r = 0;
#define STILES(TV)                                                                                                  \
  for (; r + 8 <= nr; r += 8) stile8x##TV(w + r * ldw, ldw, xp, k, s + 32 * r, phase, y + r, ldy, tokens);       \
  if (r + 4 <= nr) { stile4x##TV(w + r * ldw, ldw, xp, k, s + 32 * r, phase, y + r, ldy, tokens); r += 4; }      \
  if (r + 2 <= nr) { stile2x##TV(w + r * ldw, ldw, xp, k, s + 32 * r, phase, y + r, ldy, tokens); r += 2; }      \
  if (r < nr) stile1x##TV(w + r * ldw, ldw, xp, k, s + 32 * r, phase, y + r, ldy, tokens);
  if (tokens > 16) {
    STILES(2)
  } else {
    STILES(1)
  }
#undef STILES
}

void seesaw_gemm_rows_scratch(const float *w, long ldw, long nr, const float *xp, long k, long tokens,
                              float *scratch, int phase, float *y, long ldy) {
  if (seesaw_gemm_available()) return gemm_rows_scratch_avx512(w, ldw, nr, xp, k, tokens, scratch, phase, y, ldy);
  for (long r = 0; r < nr; r++)
    for (long i = 0; i < SEESAW_PANEL; i++) {
      float sum = (phase & 1) ? scratch[32 * r + i] : 0;
      for (long t = 0; t < k; t++) sum += w[r * ldw + t] * xp[t * SEESAW_PANEL + i];
      if (!(phase & 2)) scratch[32 * r + i] = sum;
      else if (i < tokens) y[i * ldy + r] = sum;
    }
}
