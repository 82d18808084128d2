#include "FledgeKernels.h"

// The float32 GEMM micro-kernel of the AVX-512 set. It reads the operands exactly as the AVX2
// kernel does (`fledge_pack_a`'s 6-row tiles and `fledge_pack_b`'s 16-column panels, packed or in
// place) but holds a block of TILES tiles × PANELS panels of C in zmm registers, one 16-float
// register per row and panel: more of the 32 registers hold C, so each loaded element of A and B
// feeds more multiply-adds.

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx2,fma,avx512f,avx512vl,avx512bw,avx512dq")))
#define INLINE __attribute__((always_inline)) static inline

enum { MR = FLEDGE_GEMM_MR, NR = FLEDGE_GEMM_NR };

// The register block of the main loop: 2 tiles × 2 panels, 12 × 32 floats of C in 24 zmm
// registers, 2 loads of B and 12 broadcasts of A per 24 fused multiply-adds. Measured on one core
// of an AMD EPYC Zen 5 (full-width 512-bit FMA) on a packed 72 × 1024 × 256 block, GFLOP/s of
// thread CPU time on a shared machine: AVX2 6×16 about 115; here 12×32 225, 6×64 230, 6×32 225,
// 18×16 and 24×16 210, 12×48 (36 accumulators: spills) 160. 12×32 is within noise of the best and
// loads half as much per multiply-add as 6×32 (which matters when A or B comes from L2); on Zen 4,
// whose 512-bit FMAs issue as two halves, 24 independent accumulators also cover the latency.
enum { BLOCK_TILES = 2, BLOCK_PANELS = 2 };

// The mask of the first `width` of 16 lanes.
INLINE __mmask16 lanes(long width) { return width >= NR ? (__mmask16)0xFFFF : (__mmask16)((1u << width) - 1); }

// C[height × width] (+)= A · B for height ≤ 6·tiles rows and width ≤ 16·panels columns, the
// C block held in tiles·6·panels registers. Each step of depth loads `panels` rows of 16 floats
// of B and broadcasts the 6·tiles elements of A; every row's sum runs over depth in order, one
// fused multiply-add a step (as in the AVX2 kernel, so both give the same values). Rows past
// `height` read row 0 of A (their sums are dropped); columns past `width` of a partial panel
// read the zeros `fledge_pack_b` pads it with.
//
// `packed` (a compile-time constant) says A's rows are adjacent (a_row = 1, as in
// `fledge_pack_a`'s tiles) and the block is all rows (height = 6·tiles): then one pointer per
// tile suffices; otherwise each row gets its own pointer.
AVX512 INLINE void block(const int tiles, const int panels, const int packed, long depth,
                         const float *a, long a_tile, long a_row, long a_depth, long height,
                         const float *b, long b_panel, long b_depth, long width,
                         float *c, long ldc, int accumulate) {
    __m512 sum[BLOCK_TILES * MR][BLOCK_PANELS];
    const float *row[BLOCK_TILES * MR];
    const float *panel[BLOCK_PANELS];
#pragma clang loop unroll(full)
    for (int r = 0; r < tiles * MR; r++) {
        row[r] = r < height ? a + (r / MR) * a_tile + (r % MR) * a_row : a;
#pragma clang loop unroll(full)
        for (int q = 0; q < panels; q++) sum[r][q] = _mm512_setzero_ps();
    }
    const float *tile[BLOCK_TILES];
#pragma clang loop unroll(full)
    for (int t = 0; t < tiles; t++) tile[t] = a + t * a_tile;
#pragma clang loop unroll(full)
    for (int q = 0; q < panels; q++) panel[q] = b + (q * NR < width ? q : 0) * b_panel;
    for (long p = 0; p < depth; p++) {
        __m512 columns[BLOCK_PANELS];
#pragma clang loop unroll(full)
        for (int q = 0; q < panels; q++) columns[q] = _mm512_loadu_ps(panel[q] + p * b_depth);
#pragma clang loop unroll(full)
        for (int r = 0; r < tiles * MR; r++) {
            __m512 x = packed ? _mm512_set1_ps(tile[r / MR][p * MR + r % MR]) : _mm512_set1_ps(row[r][p * a_depth]);
#pragma clang loop unroll(full)
            for (int q = 0; q < panels; q++) sum[r][q] = _mm512_fmadd_ps(x, columns[q], sum[r][q]);
        }
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < tiles * MR; r++) {
        if (r >= height) break;
#pragma clang loop unroll(full)
        for (int q = 0; q < panels; q++) {
            float *target = c + r * ldc + q * NR;
            long left = width - q * NR;
            if (left >= NR) {
                __m512 value = accumulate ? _mm512_add_ps(sum[r][q], _mm512_loadu_ps(target)) : sum[r][q];
                _mm512_storeu_ps(target, value);
            } else if (left > 0) {
                __mmask16 mask = lanes(left);
                __m512 value = accumulate ? _mm512_add_ps(sum[r][q], _mm512_maskz_loadu_ps(mask, target)) : sum[r][q];
                _mm512_mask_storeu_ps(target, mask, value);
            }
        }
    }
}

// All of C: blocks of BLOCK_TILES tiles × BLOCK_PANELS panels, then the rows and columns left
// over in blocks of one tile or one panel.
AVX512 INLINE void all_blocks(const int packed, long rows, long columns, long depth,
                              const float *a, long a_tile, long a_row, long a_depth,
                              const float *b, long b_panel, long b_depth, float *c, long ldc, int accumulate) {
    const long block_rows = BLOCK_TILES * MR, block_columns = BLOCK_PANELS * NR;
    long j0 = 0;
    for (; j0 + block_columns <= columns; j0 += block_columns) {
        const float *b_start = b + j0 / NR * b_panel;
        long i0 = 0;
        for (; i0 + block_rows <= rows; i0 += block_rows)
            block(BLOCK_TILES, BLOCK_PANELS, packed, depth, a + i0 / MR * a_tile, a_tile, a_row, a_depth, block_rows,
                  b_start, b_panel, b_depth, block_columns, c + i0 * ldc + j0, ldc, accumulate);
        for (; i0 + MR <= rows; i0 += MR)
            block(1, BLOCK_PANELS, packed, depth, a + i0 / MR * a_tile, a_tile, a_row, a_depth, MR,
                  b_start, b_panel, b_depth, block_columns, c + i0 * ldc + j0, ldc, accumulate);
        if (i0 < rows)
            block(1, BLOCK_PANELS, 0, depth, a + i0 / MR * a_tile, a_tile, a_row, a_depth, rows - i0,
                  b_start, b_panel, b_depth, block_columns, c + i0 * ldc + j0, ldc, accumulate);
    }
    for (; j0 < columns; j0 += NR) {
        const float *b_start = b + j0 / NR * b_panel;
        long width = columns - j0 < NR ? columns - j0 : NR;
        long i0 = 0;
        for (; i0 + block_rows <= rows; i0 += block_rows)
            block(BLOCK_TILES, 1, packed, depth, a + i0 / MR * a_tile, a_tile, a_row, a_depth, block_rows,
                  b_start, b_panel, b_depth, width, c + i0 * ldc + j0, ldc, accumulate);
        for (; i0 + MR <= rows; i0 += MR)
            block(1, 1, packed, depth, a + i0 / MR * a_tile, a_tile, a_row, a_depth, MR,
                  b_start, b_panel, b_depth, width, c + i0 * ldc + j0, ldc, accumulate);
        if (i0 < rows)
            block(1, 1, 0, depth, a + i0 / MR * a_tile, a_tile, a_row, a_depth, rows - i0,
                  b_start, b_panel, b_depth, width, c + i0 * ldc + j0, ldc, accumulate);
    }
}

AVX512 void fledge_gemm_panels_avx512(long rows, long columns, long depth,
                                      const float *a, long a_tile, long a_row, long a_depth,
                                      const float *b, long b_panel, long b_depth,
                                      float *c, long ldc, int accumulate) {
    if (a_row == 1 && a_depth == MR)
        all_blocks(1, rows, columns, depth, a, a_tile, a_row, a_depth, b, b_panel, b_depth, c, ldc, accumulate);
    else
        all_blocks(0, rows, columns, depth, a, a_tile, a_row, a_depth, b, b_panel, b_depth, c, ldc, accumulate);
}

#else

// Not x86: never called (fledge_cpu_has_avx512() returns 0).
void fledge_gemm_panels_avx512(long rows, long columns, long depth, const float *a, long a_tile, long a_row, long a_depth,
                               const float *b, long b_panel, long b_depth, float *c, long ldc, int accumulate) {}

#endif
