// Instructions Swift cannot reach: AVX-512 BF16 (vdpbf16ps) and VNNI (vpdpbusd) dot products, AMX tile products.
// Each probe runs `iterations` rounds of 12 independent dot-product instructions on 512-bit registers and returns
// the number of arithmetic operations done, or -1 when the CPU lacks the instruction (checked at run time).
#ifndef SEESAW_KERNELS_H
#define SEESAW_KERNELS_H

#ifdef __cplusplus
extern "C" {
#endif

/// Asks for the cache line at p ahead of its use (prefetcht0): Swift has no prefetch of its own.
static inline void seesaw_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

/// vfmadd on 256-bit registers (AVX2 + FMA): 8 lanes, 16 FLOP per instruction; the f32 peak of CPUs without AVX-512.
double seesaw_fma8_probe(long iterations);

/// vdpbf16ps: 16 lanes x 2 bf16 products, each a multiply and an add: 64 FLOP per instruction.
double seesaw_bf16_dot_probe(long iterations);

/// vpdpbusd: 16 lanes x 4 u8*s8 products, each a multiply and an add: 128 ops per instruction; without VNNI, AVX2's
/// vpmaddubsw + vpaddw (64 ops per pair), the int8 kernels' form there.
double seesaw_int8_dot_probe(long iterations);

/// AMX TDPBF16PS and TDPBUSD (16 x 16 outputs of 32 bf16 or 64 int8 products) on six tiles: `iterations` / 64
/// rounds of six (each instruction does 128 times a vector one's work), or -1 without AMX.
double seesaw_amx_bf16_probe(long iterations);
double seesaw_amx_int8_probe(long iterations);

/// The sum of p[0..<n] (n a multiple of 64): the read-bandwidth probe's pass, 512-bit loads (256-bit without
/// AVX-512) with software prefetch 4 KiB ahead, as the weight kernels stream.
float seesaw_read_probe(const float *p, long n);

#ifdef __cplusplus
}
#endif

#endif

#ifndef SEESAW_KERNELS_DEQUANT_H
#define SEESAW_KERNELS_DEQUANT_H
#ifdef __cplusplus
extern "C" {
#endif

// Dequantization of ggml blocks (32 elements, 256 for the K types, 1 for F16/BF16) to f32, AVX-512 when the CPU has
// it, scalar otherwise. Both compute d * q (+ m) with a separate multiply and add (no FMA), in ggml's reference order,
// exactly as gguf-py does; f16 NaNs come out quiet, as the F16C instructions make them.
void seesaw_dequantize_q8_0(const void *src, float *dst, long num_blocks);
void seesaw_dequantize_q4_0(const void *src, float *dst, long num_blocks);
void seesaw_dequantize_q4_1(const void *src, float *dst, long num_blocks);
void seesaw_dequantize_q4_K(const void *src, float *dst, long num_blocks);
void seesaw_dequantize_q6_K(const void *src, float *dst, long num_blocks);
void seesaw_dequantize_f16(const void *src, float *dst, long num_blocks);
void seesaw_dequantize_bf16(const void *src, float *dst, long num_blocks);

// The scalar path of the kernel for ggml type id `ggml_type` (1 F16, 2 Q4_0, 3 Q4_1, 8 Q8_0, 12 Q4_K, 14 Q6_K,
// 30 BF16), whatever the CPU, so tests can check it on AVX-512 machines. Returns -1 for other ids.
int seesaw_dequantize_scalar(unsigned ggml_type, const void *src, float *dst, long num_blocks);

// The f32 the kernels take for the f16 bits h: their table of all 65536 values, filled when the library loads.
float seesaw_f16_table_value(unsigned short h);

#ifdef __cplusplus
}
#endif
#endif
