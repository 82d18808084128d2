// Vectorised CPU kernels for Fledge's tensor engine, in C so that they can be compiled for
// AVX2 + FMA per function (`__attribute__((target(...)))`) while the rest of the package
// keeps the default x86-64 target. Callers must check `fledge_cpu_has_avx2_fma()` first;
// on other CPUs the engine uses its portable Swift kernels.
#ifndef FLEDGE_KERNELS_H
#define FLEDGE_KERNELS_H

#include <stddef.h>
#include <stdint.h>

// The worker pool that runs the kernels' parallel regions (included so that a build whose module
// cache predates it sees it).
#include "worker_pool.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Rows of the GEMM micro-kernel (register block of C).
#define FLEDGE_GEMM_MR 6
/// Columns of the GEMM micro-kernel.
#define FLEDGE_GEMM_NR 16

/// 1 when the CPU runs AVX2, FMA and F16C instructions (and this build is for x86-64), else 0.
int fledge_cpu_has_avx2_fma(void);

/// 1 when the CPU also runs AVX-512 F, BW, DQ and VL (the `_avx512` kernels), else 0.
int fledge_cpu_has_avx512(void);

/// 1 when the CPU also runs AVX-512 VNNI (the `_avx512_vnni` kernels), else 0.
int fledge_cpu_has_avx512_vnni(void);

/// 1 when the CPU also runs AVX-512 BF16 (`vdpbf16ps`: the `_avx512bf16` kernels), else 0.
int fledge_cpu_has_avx512_bf16(void);

/// Rounds the `rows × depth` matrix A (element (i, p) at a[i*row_stride + p*col_stride]) to
/// bfloat16 bits (nearest even) into row-major rows of `depth` rounded up to even, the padding 0.
void fledge_pack_bf16_rows(long rows, long depth, const float *a, long row_stride, long col_stride, uint16_t *packed);

/// Rounds the `depth × columns` matrix B (element (p, j) at b[p*row_stride + j*col_stride]) to
/// bfloat16 bits into panels of 16 columns, each a sequence of (depth + 1)/2 steps of 32 values:
/// step s of panel q holds B[2s, 16q + c] at 2c and B[2s + 1, 16q + c] at 2c + 1, zero-padded
/// past the last column and the last depth (the layout `vdpbf16ps` multiplies).
void fledge_pack_bf16_pairs(long depth, long columns, const float *b, long row_stride, long col_stride, uint16_t *packed);

/// C[rows × columns] (+)= A · B with `vdpbf16ps`: A packed by `fledge_pack_bf16_rows`, B by
/// `fledge_pack_bf16_pairs`, float32 accumulators; C row-major with row stride `ldc`, overwritten
/// when `accumulate` is 0. Requires AVX-512 F/BW/DQ/VL and BF16.
void fledge_gemm_bf16_avx512bf16(long rows, long columns, long depth, const uint16_t *a, const uint16_t *b,
                                 float *c, long ldc, int accumulate);

/// Packs the `rows × depth` block of A (element (i, p) at a[i*row_stride + p*col_stride]) into
/// panels of MR rows, each stored depth-major (`panel[p*MR + r]`), zero-padding the last panel.
void fledge_pack_a(long rows, long depth, const float *a, long row_stride, long col_stride, float *packed);

/// Packs the `depth × columns` block of B (element (p, j) at b[p*row_stride + j*col_stride])
/// into panels of NR columns (`panel[p*NR + c]`), zero-padding the last panel.
void fledge_pack_b(long depth, long columns, const float *b, long row_stride, long col_stride, float *packed);

/// Copies the `rows × columns` matrix at `source` (strided) into row-major `target`.
void fledge_pack_rows(long rows, long columns, const float *source, long row_stride, long col_stride, float *target);

/// C[rows × columns] (+)= A · B over `depth`, C row-major with row stride `ldc`; overwrites C
/// when `accumulate` is 0. Requires AVX2 + FMA.
///
/// A is read in tiles of MR rows, tile t at `a + t * a_tile`, its element (r, p) at
/// `r * a_row + p * a_depth` from there: packed by `fledge_pack_a`, that is a_tile = MR·depth,
/// a_row = 1, a_depth = MR; read in place, a_tile = MR·row_stride, a_row = row_stride and
/// a_depth = col_stride. B is read in panels of NR contiguous columns, panel q at
/// `b + q * b_panel`, its row p at `p * b_depth` from there: packed by `fledge_pack_b`,
/// b_panel = NR·depth and b_depth = NR; read in place (unit column stride), b_panel = NR and
/// b_depth = row_stride, which needs `columns` to be a multiple of NR (no partial panel).
void fledge_gemm_panels(long rows, long columns, long depth,
                        const float *a, long a_tile, long a_row, long a_depth,
                        const float *b, long b_panel, long b_depth,
                        float *c, long ldc, int accumulate);

/// `fledge_gemm_panels` for AVX-512 F/BW/DQ/VL: the same operands and results (the same value for
/// each output: one fused multiply-add per step of depth, in order), a 12 × 32 register block of C.
void fledge_gemm_panels_avx512(long rows, long columns, long depth,
                               const float *a, long a_tile, long a_row, long a_depth,
                               const float *b, long b_panel, long b_depth,
                               float *c, long ldc, int accumulate);

/// C[m × n] (+)= A[m × k] · B[n × k]ᵀ with A and B row-major (unit stride along k): one dot
/// product per output, for few rows (decoding), streaming B once. Each output's terms are added
/// in the same order whatever m, so a row's results do not depend on the rows beside it.
/// Requires AVX2 + FMA.
void fledge_gemm_small_nt(long m, long n, long k, const float *a, long lda, const float *b, long ldb,
                          float *c, long ldc, int accumulate);

/// c[0 ..< n] (+)= x[0 ..< k] · B[n × k]ᵀ, B row-major (row j at b + j·ldb): one activation row
/// (decoding one sequence). Requires AVX-512 F/BW/DQ/VL.
void fledge_gemv_nt_avx512(long n, long k, const float *x, const float *b, long ldb, float *c, int accumulate);

/// C[m × n] (+)= A[m × k] · B[k × n] with A row-major and B row-major, for few rows.
/// Requires AVX2 + FMA.
void fledge_gemm_small_nn(long m, long n, long k, const float *a, long lda, const float *b, long ldb,
                          float *c, long ldc, int accumulate);

// Vector math (AVX2 + FMA; exp to about 1 ulp). The portable Swift versions live in
// FledgeTensor's `PortableVectorMath`.

/// y[i] = exp(x[i]·scale + shift). `x` and `y` may be the same buffer.
void fledge_exp_affine(const float *x, float *y, long n, float scale, float shift);

/// Replaces x[0..<n] by softmax(x·scale) and returns log Σ exp(x·scale). The row must hold at
/// least one finite value (−inf entries become 0).
float fledge_softmax_row(float *x, long n, float scale);

/// out = SiLU(gate) · up.
void fledge_swiglu_forward(const float *gate, const float *up, float *out, long n);

/// d_gate = grad · up · SiLU'(gate), d_up = grad · SiLU(gate); either output may be NULL.
void fledge_swiglu_backward(const float *gate, const float *up, const float *grad, float *d_gate, float *d_up, long n);

/// out = GELU-tanh(gate) · up, GELU-tanh(x) = 0.5 x (1 + tanh(√(2/π)(x + 0.044715 x³))).
void fledge_geglu_forward(const float *gate, const float *up, float *out, long n);

/// d_gate = grad · up · GELU-tanh'(gate), d_up = grad · GELU-tanh(gate); either output may be NULL.
void fledge_geglu_backward(const float *gate, const float *up, const float *grad, float *d_gate, float *d_up, long n);

/// Folds z[0..<n]·scale into running softmax statistics: the maximum m, Σ exp(v − m) and
/// Σ exp(v − m)·v (rescaled when m grows). Start from m = −inf, sums 0. When `weights` is not
/// NULL it receives exp(v − m) for the new m (it may be `z` itself). Nothing is written when
/// every value is −inf.
void fledge_softmax_stats(const float *z, long n, float scale, float *running_max, float *running_sum,
                          float *running_weighted, float *weights);

/// Replaces logits z (with v = z·scale, p = exp(v − lse)) by the gradient of
/// grad_logp·log p(target) + grad_entropy·H with respect to z, except the target's
/// +grad_logp·scale, which the caller adds.
void fledge_selective_softmax_grad(float *z, long n, float scale, float lse, float entropy, float grad_logp,
                                   float grad_entropy);

/// The same kernels for AVX-512 F/BW/DQ/VL (the same arithmetic on 16 floats, masked tails).
void fledge_exp_affine_avx512(const float *x, float *y, long n, float scale, float shift);
float fledge_softmax_row_avx512(float *x, long n, float scale);
void fledge_swiglu_forward_avx512(const float *gate, const float *up, float *out, long n);
void fledge_swiglu_backward_avx512(const float *gate, const float *up, const float *grad, float *d_gate, float *d_up, long n);
void fledge_geglu_forward_avx512(const float *gate, const float *up, float *out, long n);
void fledge_geglu_backward_avx512(const float *gate, const float *up, const float *grad, float *d_gate, float *d_up, long n);
void fledge_softmax_stats_avx512(const float *z, long n, float scale, float *running_max, float *running_sum,
                                 float *running_weighted, float *weights);
void fledge_selective_softmax_grad_avx512(float *z, long n, float scale, float lse, float entropy, float grad_logp,
                                          float grad_entropy);

/// Decoding products with a block-quantized weight (llama.cpp's Q8_0, Q4_0): for each of the
/// `rows` weight rows at w + r·row_bytes (k/32 blocks each) and each of the m ≤ 8 activation rows
/// x + i·ldx (k floats), out[i·ldo + r] = the dot product of the dequantized row with the
/// activations. Each block is dequantized in registers (the fused kernel of decoding).
void fledge_q8_0_matvec(long m, long k, const float *x, long ldx, const unsigned char *w, long row_bytes, long rows,
                        float *out, long ldo);
void fledge_q4_0_matvec(long m, long k, const float *x, long ldx, const unsigned char *w, long row_bytes, long rows,
                        float *out, long ldo);
/// The same for bitsandbytes' NF4 and FP4 blocks as Fledge stores them (float32 absmax, then 32
/// bytes of two codes each, the first in the high nibble; k/64 blocks per row), with the format's
/// 16-value `codebook`.
void fledge_4bit_matvec(long m, long k, const float *x, long ldx, const unsigned char *w, long row_bytes, long rows,
                        float *out, long ldo, const float *codebook);
/// Decodes `count` NF4/FP4 blocks as Fledge stores them (36 bytes each, as above) into 64·count
/// floats, `codebook[code] · absmax` in float32: the floats of the portable Swift decoder, for the
/// GEMM's packing of weight panels. Requires AVX2.
void fledge_4bit_decode(long count, const unsigned char *blocks, float *out, const float *codebook);

/// Quantizes the m activation rows x + i·ldx (k floats, k a multiple of 32) for the integer
/// decoding products, block by block as llama.cpp's Q8_0 (`quantize_row_q8_0_ref`, the bytes that
/// Fledge's `Q8_0.quantize` writes): row i's levels at levels + i·k, and per block
/// (i·k/32 + b) the scale rounded to float16 and widened back, and the sum of the block's levels.
/// Requires AVX2 + FMA + F16C.
void fledge_quantize_q8_avx2(long m, long k, const float *x, long ldx, int8_t *levels, float *scales, int32_t *sums);

/// Integer decoding products of the `rows` weight rows at w + r·row_bytes (Q8_0 or Q4_0 blocks,
/// k/32 per row) with m activation rows quantized by `fledge_quantize_q8_avx2`:
/// out[i·ldo + r] = Σ_b d_w · d_a · (exact integer dot product of the block's levels). The `_avx2`
/// kernels use maddubs/madd (AVX2 + FMA + F16C; Q4_0 with m = 1 takes eight weight rows per pass,
/// summed across rows by hadd), the `_avx512_vnni` ones vpdpbusd.
void fledge_q8_0_dot_q8_avx2(long m, long k, const int8_t *a_levels, const float *a_scales, const int32_t *a_sums,
                             const uint8_t *w, long row_bytes, long rows, float *out, long ldo);
void fledge_q4_0_dot_q8_avx2(long m, long k, const int8_t *a_levels, const float *a_scales, const int32_t *a_sums,
                             const uint8_t *w, long row_bytes, long rows, float *out, long ldo);
void fledge_q8_0_dot_q8_avx512_vnni(long m, long k, const int8_t *a_levels, const float *a_scales, const int32_t *a_sums,
                                    const uint8_t *w, long row_bytes, long rows, float *out, long ldo);
void fledge_q4_0_dot_q8_avx512_vnni(long m, long k, const int8_t *a_levels, const float *a_scales, const int32_t *a_sums,
                                    const uint8_t *w, long row_bytes, long rows, float *out, long ldo);

// Fixes glibc's mmap threshold at `bytes` (mallopt M_MMAP_THRESHOLD, which also stops its dynamic
// rise); returns 1 on success, 0 where it failed or the C library is not glibc.
int fledge_set_mmap_threshold(int bytes);

#ifdef __cplusplus
}
#endif

#endif
