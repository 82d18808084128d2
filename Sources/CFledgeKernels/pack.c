#include "FledgeKernels.h"

// Packing is memory-bound: plain C, with loops ordered so that reads are contiguous for the
// layouts training uses (the compiler vectorises the unit-stride cases).

void fledge_pack_a(long rows, long depth, const float *a, long row_stride, long col_stride, float *packed) {
    for (long i0 = 0; i0 < rows; i0 += FLEDGE_GEMM_MR) {
        long height = rows - i0 < FLEDGE_GEMM_MR ? rows - i0 : FLEDGE_GEMM_MR;
        float *panel = packed + i0 * depth;
        const float *source = a + i0 * row_stride;
        if (row_stride == 1 && height == FLEDGE_GEMM_MR) {
            // Aᵀ stored row-major (a weight gradient): the panel's rows are adjacent in memory.
            for (long p = 0; p < depth; p++)
                for (long r = 0; r < FLEDGE_GEMM_MR; r++) panel[p * FLEDGE_GEMM_MR + r] = source[p * col_stride + r];
            continue;
        }
        for (long r = 0; r < FLEDGE_GEMM_MR; r++) {
            const float *row = source + r * row_stride;
            for (long p = 0; p < depth; p++) panel[p * FLEDGE_GEMM_MR + r] = r < height ? row[p * col_stride] : 0;
        }
    }
}

void fledge_pack_b(long depth, long columns, const float *b, long row_stride, long col_stride, float *packed) {
    for (long j0 = 0; j0 < columns; j0 += FLEDGE_GEMM_NR) {
        long width = columns - j0 < FLEDGE_GEMM_NR ? columns - j0 : FLEDGE_GEMM_NR;
        float *panel = packed + j0 * depth;
        const float *source = b + j0 * col_stride;
        if (col_stride == 1 && width == FLEDGE_GEMM_NR) {
            for (long p = 0; p < depth; p++)
                for (long c = 0; c < FLEDGE_GEMM_NR; c++) panel[p * FLEDGE_GEMM_NR + c] = source[p * row_stride + c];
            continue;
        }
        if (row_stride == 1 && width == FLEDGE_GEMM_NR) {
            // Bᵀ stored row-major (a linear layer's [out, in] weight): transpose 16 rows in
            // blocks of 8 depths so that both reads and writes stay within a few cache lines.
            long p0 = 0;
            for (; p0 + 8 <= depth; p0 += 8)
                for (long c = 0; c < FLEDGE_GEMM_NR; c++) {
                    const float *row = source + c * col_stride + p0;
                    for (long q = 0; q < 8; q++) panel[(p0 + q) * FLEDGE_GEMM_NR + c] = row[q];
                }
            for (; p0 < depth; p0++)
                for (long c = 0; c < FLEDGE_GEMM_NR; c++) panel[p0 * FLEDGE_GEMM_NR + c] = source[c * col_stride + p0];
            continue;
        }
        for (long c = 0; c < FLEDGE_GEMM_NR; c++) {
            const float *column = source + c * col_stride;
            for (long p = 0; p < depth; p++) panel[p * FLEDGE_GEMM_NR + c] = c < width ? column[p * row_stride] : 0;
        }
    }
}

void fledge_pack_rows(long rows, long columns, const float *source, long row_stride, long col_stride, float *target) {
    if (row_stride == 1) {
        // Transposed source: walk it in storage order.
        for (long j = 0; j < columns; j++)
            for (long i = 0; i < rows; i++) target[i * columns + j] = source[j * col_stride + i];
        return;
    }
    for (long i = 0; i < rows; i++)
        for (long j = 0; j < columns; j++) target[i * columns + j] = source[i * row_stride + j * col_stride];
}
