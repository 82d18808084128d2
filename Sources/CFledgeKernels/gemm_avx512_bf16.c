// bfloat16 products with vdpbf16ps (AVX-512 BF16): each instruction multiplies 16 pairs of bfloat16
// values and adds both products to 16 float32 accumulators. The operands are bfloat16 bit patterns
// made by `fledge_pack_bf16_rows` and `fledge_pack_bf16_pairs` (round to nearest even, as Fledge's
// emulation rounds), so this kernel and the emulation see the same bfloat16 inputs.
#include "FledgeKernels.h"

#define BF16_PANEL 16

// Round to nearest even (NaN stays a quiet NaN), the rounding of `Float.roundedToBFloat16`.
static inline uint16_t bf16_bits(float value) {
    uint32_t bits;
    __builtin_memcpy(&bits, &value, sizeof bits);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((bits >> 16) | 0x0040u);
    return (uint16_t)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

void fledge_pack_bf16_rows(long rows, long depth, const float *a, long row_stride, long col_stride, uint16_t *packed) {
    const long padded = (depth + 1) & ~1L;
    for (long i = 0; i < rows; i++) {
        uint16_t *row = packed + i * padded;
        for (long p = 0; p < depth; p++) row[p] = bf16_bits(a[i * row_stride + p * col_stride]);
        if (padded > depth) row[depth] = 0;
    }
}

void fledge_pack_bf16_pairs(long depth, long columns, const float *b, long row_stride, long col_stride, uint16_t *packed) {
    const long pairs = (depth + 1) / 2, panels = (columns + BF16_PANEL - 1) / BF16_PANEL;
    for (long q = 0; q < panels; q++) {
        for (long p = 0; p < pairs; p++) {
            uint16_t *step = packed + (q * pairs + p) * 2 * BF16_PANEL;
            for (long c = 0; c < BF16_PANEL; c++) {
                const long j = q * BF16_PANEL + c;
                for (long r = 0; r < 2; r++) {
                    const long depth_index = 2 * p + r;
                    step[2 * c + r] = j < columns && depth_index < depth ? bf16_bits(b[depth_index * row_stride + j * col_stride]) : 0;
                }
            }
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512bf16")))
#define BF16_ROWS 6

// C rows [0, rows) (rows <= BF16_ROWS) × two panels (the second may be absent: `panels` 1 or 2),
// `width` valid columns in all (masked store of a partial panel).
BF16_TARGET static void tile(long rows, long panels, long width, long pairs, const uint16_t *a, long lda,
                             const uint16_t *b, long panel_stride, float *c, long ldc, int accumulate) {
    __m512 acc[BF16_ROWS][2];
    for (int r = 0; r < BF16_ROWS; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (long p = 0; p < pairs; p++) {
        const __m512bh b0 = (__m512bh)_mm512_loadu_si512((const void *)(b + p * 2 * BF16_PANEL));
        const __m512bh b1 = panels > 1 ? (__m512bh)_mm512_loadu_si512((const void *)(b + panel_stride + p * 2 * BF16_PANEL)) : b0;
        for (int r = 0; r < BF16_ROWS; r++) {
            if (r >= rows) break;
            int32_t pair;
            __builtin_memcpy(&pair, a + r * lda + 2 * p, sizeof pair);
            const __m512bh broadcast = (__m512bh)_mm512_set1_epi32(pair);
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], broadcast, b0);
            if (panels > 1) acc[r][1] = _mm512_dpbf16_ps(acc[r][1], broadcast, b1);
        }
    }
    for (long half = 0; half < panels; half++) {
        const long columns = width - half * BF16_PANEL < BF16_PANEL ? width - half * BF16_PANEL : BF16_PANEL;
        const __mmask16 mask = (__mmask16)((1u << columns) - 1u);
        for (int r = 0; r < BF16_ROWS; r++) {
            if (r >= rows) break;
            float *out = c + r * ldc + half * BF16_PANEL;
            __m512 value = acc[r][half];
            if (accumulate) value = _mm512_add_ps(value, _mm512_maskz_loadu_ps(mask, out));
            _mm512_mask_storeu_ps(out, mask, value);
        }
    }
}

BF16_TARGET void fledge_gemm_bf16_avx512bf16(long rows, long columns, long depth, const uint16_t *a, const uint16_t *b,
                                            float *c, long ldc, int accumulate) {
    const long pairs = (depth + 1) / 2, lda = 2 * pairs, panel_stride = pairs * 2 * BF16_PANEL;
    const long panels = (columns + BF16_PANEL - 1) / BF16_PANEL;
    for (long i = 0; i < rows; i += BF16_ROWS) {
        const long height = rows - i < BF16_ROWS ? rows - i : BF16_ROWS;
        for (long q = 0; q < panels; q += 2) {
            const long count = panels - q < 2 ? panels - q : 2;
            const long width = columns - q * BF16_PANEL < count * BF16_PANEL ? columns - q * BF16_PANEL : count * BF16_PANEL;
            tile(height, count, width, pairs, a + i * lda, lda, b + q * panel_stride, panel_stride,
                 c + i * ldc + q * BF16_PANEL, ldc, accumulate);
        }
    }
}
#else
void fledge_gemm_bf16_avx512bf16(long rows, long columns, long depth, const uint16_t *a, const uint16_t *b,
                                 float *c, long ldc, int accumulate) {
    (void)rows; (void)columns; (void)depth; (void)a; (void)b; (void)c; (void)ldc; (void)accumulate;
    __builtin_trap();
}
#endif
