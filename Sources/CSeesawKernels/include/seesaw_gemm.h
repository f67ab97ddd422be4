// f32 matrix products for the linear layers, y = x · wᵀ with weights [N, K] (row-major, one row per output).
//
// Large M (prefill): weights are packed into panels of SEESAW_PANEL output rows, transposed to [k][SEESAW_PANEL]
// so that one 512-bit load gives 16 outputs' weights at one k, and an 8 x 32 register tile accumulates
// broadcast(x[i, k]) * panel[k] (GotoBLAS's layout). Small M (decode): a weight row is dequantized in registers and
// dotted with each activation row while it is hot, so weights are read once from memory in their compact form.
#ifndef SEESAW_KERNELS_GEMM_H
#define SEESAW_KERNELS_GEMM_H
#ifdef __cplusplus
extern "C" {
#endif

/// Output rows per packed weight panel.
#define SEESAW_PANEL 32

/// 1 when the CPU runs the AVX-512 kernels below (otherwise callers use their portable path).
int seesaw_gemm_available(void);
/// 1 when the CPU is AMD's (whose AVX-512 cores, Zen 4 and later, take some paths at other thresholds than Intel's).
int seesaw_cpu_is_amd(void);

/// panel [k][32] = transpose(rows [n][ldr]) restricted to columns 0..<k; rows n..<32 of the panel are zero.
/// - rows: n ≤ 32 rows of f32, row stride `ldr` floats.
void seesaw_pack_panel(const float *rows, long ldr, long n, long k, float *panel);

/// c[i, j] (+)= Σ_t a[i, t] · panel[t][j] for i < m, j < n (n ≤ 32).
/// - a: [m][lda] f32; panel: [k][32]; c: [m][ldc]; accumulate: 0 overwrites c, 1 adds to it.
void seesaw_gemm_panel(const float *a, long lda, const float *panel, long k, float *c, long ldc, long m, long n,
                       int accumulate);

/// y[i * ldy + r] (+)= Σ_t w[r][t] · xp[t][i] for r < nr, i < tokens (≤ 32): weight rows in place (f32, stride
/// ldw) against up to 32 tokens of x packed as a panel [k][32] (seesaw_pack_panel of the x rows). Each weight is
/// broadcast against 32 tokens, so dequantized weights need no transpose and x is packed once per product.
/// accumulate: 0 overwrites y, 1 adds to it (later K blocks).
void seesaw_gemm_rows(const float *w, long ldw, long nr, const float *xp, long k, long tokens, float *y, long ldy,
                      int accumulate);

/// seesaw_gemm_rows for one K block of a product whose K blocks all go through `scratch` [nr][32], a tile of y
/// untransposed (row r's 32 token sums at scratch + 32 r): phase bit 1 adds the block to what scratch holds (later
/// blocks), bit 2 marks the last block, whose sums are transposed into y[i * ldy + r] for i < tokens; without bit 2
/// the sums go back to scratch. y is thus written once, and the blocks before the last touch only whole cache lines
/// of scratch instead of y's rows.
void seesaw_gemm_rows_scratch(const float *w, long ldw, long nr, const float *xp, long k, long tokens,
                              float *scratch, int phase, float *y, long ldy);

/// y[i * ldy + r] = Σ_t x[i * k + t] · w_r[t] for r < rows, i < m (any m; rows of x are taken four at a time).
/// Weight row r starts at w + r * row_bytes and is stored as `dtype`: 0 f32, 1 f16, 2 bf16, 3 q8_0, 4 q4_0, 5 q4_1,
/// 6 q4_K, 7 q6_K (ggml block layouts, k a multiple of 256 for the last two; dequantized exactly as ggml does,
/// products accumulated in f32).
void seesaw_gemv(int dtype, const void *w, long row_bytes, long rows, const float *x, long k, long m, float *y,
                 long ldy);

/// 1 when seesaw_gemv runs `dtype` on this CPU: with AVX-512 (seesaw_gemm_available), or AVX2, FMA and F16C.
int seesaw_gemv_available(int dtype);

/// 1 when the CPU runs the opt-in int8 products below: with AVX-512 VNNI (vpdpbusd), or with AVX2, FMA and F16C
/// (vpmaddubsw; the same results).
int seesaw_int8_available(void);
/// 1 when the CPU has AVX-512 VNNI (the int8 products' fast form; seesaw_gemv_digits_x16 needs it).
int seesaw_vnni_available(void);
/// 1 when the CPU has AVX-512 BF16 for the opt-in bf16 products.
int seesaw_bf16_available(void);

/// Rows of x per panel of the int8 kernel's layout.
#define SEESAW_INT8_PANEL 16

/// What the int8 kernel needs of one quantized block of x besides its quants: the scale d = max |x| / 127 and, with
/// Σq the sum of the block's quants, -8 Σq and -128 Σq (the q4_0 and q8_0 weights' offsets), d · Σq (q4_1's min),
/// and -128 Σq of its two halves (q6_K, whose halves have scales of their own; its copy holds q + 32, offset by a
/// quarter of them).
typedef struct {
  float d;
  int minus8sum;
  int minus128sum;
  float dsum;
  int minus128lo;
  int minus128hi;
} seesaw_q8_aux;

/// Quantizes rows row0..<row0+rows of x [m][k] (k a multiple of 32) to int8 per block of 32 as ggml's Q8_0 does
/// (scale max |x| / 127, rounded to nearest even), in panels of SEESAW_INT8_PANEL rows: panel p (rows 16p..,
/// height h = min(16, m - 16p)) holds [k/32][h][32] quants at xq + 16p k and [k/32][h] records at aux + 16p k/32.
void seesaw_quantize_panels_q8(const float *x, long m, long k, long row0, long rows, signed char *xq,
                               seesaw_q8_aux *aux);

/// Bytes of quants and f16 scales per group of 16 rows and block of 32 columns in the interleaved copy of a weight
/// matrix of dtype 3 q8_0, 4 q4_0, 5 q4_1, 6 q4_K or 7 q6_K (seesaw_gemv codes).
long seesaw_x16_quant_bytes(int dtype);
long seesaw_x16_scale_halves(int dtype);

/// Writes groups group0..<group0+groups of the interleaved copy of a weight matrix [rows][k] whose row r starts at
/// w + r * row_stride: per group g of 16 rows and block b, quants[(g * blocks + b) * quant_bytes] holds vectors of
/// 64 bytes, vector j lane r = quant bytes 4j..4j+3 of row 16g + r (q8_0 stored as unsigned, q + 128), and
/// scales[(g * blocks + b) * scale_halves] the 16 rows' f16 d (then, for q4_1, their 16 f16 m). Rows past `rows`
/// are zero. A q4_K matrix (dtype 6) has q4_1's quants (each sub-block of 32 as a block), and as scales the 16 rows'
/// f16 super-block d, then their f16 dmin, then their 6-bit sc and m of the sub-block (16 bytes each): its weights
/// d · sc · q - dmin · m with d · sc and dmin · m exact in f32, as in the file. A q6_K matrix (dtype 7) is written as q8_0 quants (q + 128) of
/// its 32-element pieces, whose "scales" are the 16 rows' f16 super-block d, then their int8 scales of elements
/// 0..15 and of 16..31 (16 bytes each): d · sc is exact in f32, so the kernel multiplies them out.
void seesaw_repack_x16(int dtype, const void *w, long row_stride, long rows, long k, long group0, long groups,
                       unsigned char *quants, unsigned short *scales);

/// y[i * ldy + r] ≈ Σ_t x[i, t] · w_r[t] for rows r of groups group0..<group0+groups (r < rows) and i < m, from x
/// quantized by seesaw_quantize_panels_q8 and the interleaved copy: one vpdpbusd per 4 columns of 16 rows (on AVX2,
/// one vpmaddubsw per 4 columns of 8 rows).
void seesaw_gemv_int8_x16(int dtype, const unsigned char *quants, const unsigned short *scales, long rows,
                          long group0, long groups, const signed char *xq, const seesaw_q8_aux *aux, long k, long m,
                          float *y, long ldy);

/// The AVX2 forms of the two above (vpmaddubsw; the same results), which those call on CPUs without VNNI.
void seesaw_quantize_panels_q8_avx2(const float *x, long m, long k, long row0, long rows, signed char *xq,
                                    seesaw_q8_aux *aux);
void seesaw_gemv_int8_x16_avx2(int dtype, const unsigned char *quants, const unsigned short *scales, long rows,
                               long group0, long groups, const signed char *xq, const seesaw_q8_aux *aux, long k,
                               long m, float *y, long ldy);

/// One block of 32 values of x encoded for seesaw_gemv_digits_x16: x ≈ scale · X with X = 2^24 X0 + 2^16 X1 +
/// 2^8 X2 + X3 (four signed int8 digits), and per digit -8 Σ X_d and -128 Σ X_d (the q4_0 and q8_0 weights'
/// offsets) and -128 Σ X_d over elements 0..15 (q6_K's halves, q + 32 in its copy: a quarter of it); sum is the
/// block's Σx in f32 (q4_1's minimum).
typedef struct {
  float scale;
  float sum;
  int minus8[4];
  int minus128[4];
  int minus128lo[4];
} seesaw_digits_aux;

/// Encodes rows row0..<row0+rows of x [m][k] (k a multiple of 32): row i's block b at xd + (i k/32 + b) 128 as
/// [4][32] digits and at aux[i k/32 + b]. scale is a power of two with 2^29 ≤ max |X| < 2^30, so X is x rounded to
/// 2^-30 of the block's largest |x| (exact within 2^6 of it); blocks below 2^-96 are zero, and a block that is not
/// finite gets a NaN scale.
void seesaw_encode_digits(const float *x, long k, long row0, long rows, signed char *xd, seesaw_digits_aux *aux);

/// y[i * ldy + r] = Σ_t x[i, t] · w_r[t] to f32's accuracy, for rows r of groups group0..<group0+groups (r < rows)
/// and i < m, from x encoded by seesaw_encode_digits and the interleaved copy (seesaw_repack_x16) of a q8_0 (3),
/// q4_0 (4), q4_1 (5), q4_K (6) or q6_K (7) matrix: four vpdpbusd per 4 columns of 16 rows, one per digit.
void seesaw_gemv_digits_x16(int dtype, const unsigned char *quants, const unsigned short *scales, long rows,
                            long group0, long groups, const signed char *xd, const seesaw_digits_aux *aux, long k,
                            long m, float *y, long ldy);

/// out[0..<count] = x rounded to bf16 (nearest, ties to even).
void seesaw_round_rows_bf16(const float *x, long count, unsigned short *out);

/// y[i * ldy + r] ≈ Σ_t x[i, t] · w_r[t] with x [m][k] in bf16 and weight blocks (dtype codes 0-5 of seesaw_gemv)
/// rounded to bf16, pairwise products summed in f32.
void seesaw_gemv_bf16(int dtype, const void *w, long row_bytes, long rows, const unsigned short *x, long k, long m,
                      float *y, long ldy);

/// A bf16 panel [k/2][32][2] from an f32 panel [k][32] (a zero row pads odd k).
void seesaw_pack_panel_bf16(const float *panel, long k, unsigned short *out);

/// c[i, j] (+)= Σ_t a[i, t] · panel[t][j] with a [m][lda] bf16 (k even) and a bf16 panel.
void seesaw_gemm_panel_bf16(const unsigned short *a, long lda, const unsigned short *panel, long k, float *c,
                            long ldc, long m, long n, int accumulate);

/// 1 when the CPU has AMX (tiles, BF16 and INT8) and the kernel lets this process use it (amx.c).
int seesaw_amx_available(void);

/// A bf16 panel [k/2][32][2] straight from n ≤ 32 rows of bf16 weights, `row_bytes` apart (k even); outputs
/// n..<32 of the panel are zero.
void seesaw_pack_panel_bf16_rows(const void *w, long row_bytes, long n, long k, unsigned short *out);

/// Rows row0..<row0+count of x [rows][k] (k a multiple of 32) as AMX tiles of bf16: each part laid out as
/// [⌈rows/16⌉][k/32][16][32], row r's columns 32s..<32s+32 at part + (r / 16) * 16k + 512s + 32 (r % 16). One part:
/// x rounded to bf16 (nearest even); three: x = hi + mid + lo exactly (hi and mid truncated, lo the at most 8 bits
/// left), so that three bf16 products with a bf16 weight give f32's product (x normal and above 2^-110). Rows from
/// `rows` on are zeros.
void seesaw_amx_tiles_bf16(const float *x, long k, long rows, long row0, long count, int nparts,
                           unsigned short *const *parts);

/// c[i, j] (+)= Σ_p Σ_t parts[p][i, t] · panel[t][j] for i < m, j < n (n ≤ 32) on AMX tiles: the parts in
/// seesaw_amx_tiles_bf16's layout for x of `lda` columns, each pointer at this product's first row m0 and column
/// k0 (multiples of 32: part + m0 lda + 16 k0), k a multiple of 32. Rows are taken 32 at a time, so the parts must
/// hold m rounded up to 32 rows; only rows < m of c are written.
void seesaw_gemm_panel_amx(const unsigned short *const *parts, int nparts, long lda, const unsigned short *panel,
                           long k, float *c, long ldc, long m, long n, int accumulate);

#ifdef __cplusplus
}
#endif
#endif
