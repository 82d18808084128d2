#include "FledgeKernels.h"

#include <stdint.h>
#include <string.h>

// Fused dequantize-and-dot kernels for decoding (a few rows of activations times a block-quantized
// weight): each compressed block is read once per call and expanded in registers, never stored.
// Per block, the int8 (or 4-bit) levels are multiplied with the activations and summed, and the
// block's scale multiplies that sum; so the result equals the dot product with the dequantized row
// up to the order of the float additions.

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "avx2_common.h"

// The float a float16 bit pattern stands for (exact; no F16C needed).
static inline float half_to_float(const uint8_t *bytes) {
    uint16_t h = (uint16_t)(bytes[0] | bytes[1] << 8);
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF, bits;
    if (exponent == 0) {
        float magnitude = (float)mantissa * 0x1p-24f;
        return sign ? -magnitude : magnitude;
    }
    bits = sign | (exponent == 31 ? 0x7F800000u : (exponent + 112) << 23) | mantissa << 13;
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

// The low eight signed bytes of `bytes` as eight floats.
AVX2 static inline __m256 bytes_to_floats(__m128i bytes) {
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes));
}

// Eight signed bytes from memory as eight floats (one sign-extending load).
AVX2 static inline __m256 load_bytes_as_floats(const uint8_t *bytes) {
    return bytes_to_floats(_mm_loadl_epi64((const __m128i *)bytes));
}

// out[i * ldo + r] = Σ_block d · Σ_j level_j · x[i][block·32 + j], for the `rows` weight rows from
// `w` (each `row_bytes` long) and the m ≤ 8 activation rows x (row i at x + i·ldx). `levels`
// expands one block's 32 levels into four vectors of eight floats.
#define QUANTIZED_MATVEC(name, block_bytes, expand)                                                              \
    AVX2 void name(long m, long k, const float *x, long ldx, const uint8_t *w, long row_bytes, long rows,           \
                   float *out, long ldo) {                                                                          \
        long blocks = k / 32;                                                                                      \
        for (long r = 0; r < rows; r++) {                                                                          \
            const uint8_t *row = w + r * row_bytes;                                                                \
            __m256 acc[8];                                                                                         \
            for (long i = 0; i < m; i++) acc[i] = _mm256_setzero_ps();                                             \
            for (long b = 0; b < blocks; b++) {                                                                    \
                const uint8_t *block = row + b * (block_bytes);                                                    \
                __m256 scale = _mm256_set1_ps(half_to_float(block));                                               \
                __m256 l0, l1, l2, l3;                                                                             \
                expand(block + 2, l0, l1, l2, l3);                                                                 \
                for (long i = 0; i < m; i++) {                                                                     \
                    const float *xi = x + i * ldx + b * 32;                                                        \
                    __m256 s = _mm256_mul_ps(l0, _mm256_loadu_ps(xi));                                             \
                    s = _mm256_fmadd_ps(l1, _mm256_loadu_ps(xi + 8), s);                                           \
                    s = _mm256_fmadd_ps(l2, _mm256_loadu_ps(xi + 16), s);                                          \
                    s = _mm256_fmadd_ps(l3, _mm256_loadu_ps(xi + 24), s);                                          \
                    acc[i] = _mm256_fmadd_ps(scale, s, acc[i]);                                                    \
                }                                                                                                  \
            }                                                                                                      \
            for (long i = 0; i < m; i++) out[i * ldo + r] = sum8(acc[i]);                                          \
        }                                                                                                          \
    }

// Q8_0: 32 signed bytes.
#define EXPAND_Q8_0(levels, l0, l1, l2, l3)                                                                          \
    do {                                                                                                           \
        l0 = load_bytes_as_floats(levels);                                                                         \
        l1 = load_bytes_as_floats((levels) + 8);                                                                   \
        l2 = load_bytes_as_floats((levels) + 16);                                                                  \
        l3 = load_bytes_as_floats((levels) + 24);                                                                  \
    } while (0)

// Q4_0: 16 bytes, weight j in the low nibble of byte j and weight j + 16 in its high nibble, minus 8.
#define EXPAND_Q4_0(levels, l0, l1, l2, l3)                                                                          \
    do {                                                                                                           \
        __m128i packed = _mm_loadu_si128((const __m128i *)(levels)), mask = _mm_set1_epi8(0x0F), eight = _mm_set1_epi8(8); \
        __m128i low = _mm_sub_epi8(_mm_and_si128(packed, mask), eight);                                            \
        __m128i high = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(packed, 4), mask), eight);                        \
        l0 = bytes_to_floats(low);                                                                                 \
        l1 = bytes_to_floats(_mm_srli_si128(low, 8));                                                              \
        l2 = bytes_to_floats(high);                                                                                \
        l3 = bytes_to_floats(_mm_srli_si128(high, 8));                                                             \
    } while (0)

QUANTIZED_MATVEC(fledge_q8_0_matvec, 34, EXPAND_Q8_0)
QUANTIZED_MATVEC(fledge_q4_0_matvec, 18, EXPAND_Q4_0)

// Eight values of a bitsandbytes 4-bit block from 4 packed bytes (the first value of each byte in
// its high nibble), looked up in the 16-entry codebook held as two halves of eight.
AVX2 static inline __m256 expand_4bit(const uint8_t *packed, __m256 low_codes, __m256 high_codes) {
    uint32_t four;
    memcpy(&four, packed, sizeof four);
    __m128i bytes = _mm_cvtsi32_si128((int)four);
    __m256i doubled = _mm256_cvtepu8_epi32(_mm_unpacklo_epi8(bytes, bytes));  // b0 b0 b1 b1 b2 b2 b3 b3
    __m256i codes = _mm256_and_si256(_mm256_srlv_epi32(doubled, _mm256_setr_epi32(4, 0, 4, 0, 4, 0, 4, 0)),
                                     _mm256_set1_epi32(0x0F));
    return lookup16(codes, low_codes, high_codes);
}

AVX2 void fledge_4bit_matvec(long m, long k, const float *x, long ldx, const uint8_t *w, long row_bytes, long rows,
                             float *out, long ldo, const float *codebook) {
    __m256 low_codes = _mm256_loadu_ps(codebook), high_codes = _mm256_loadu_ps(codebook + 8);
    long blocks = k / 64;
    for (long r = 0; r < rows; r++) {
        const uint8_t *row = w + r * row_bytes;
        __m256 acc[8];
        for (long i = 0; i < m; i++) acc[i] = _mm256_setzero_ps();
        for (long b = 0; b < blocks; b++) {
            const uint8_t *block = row + b * 36;
            float absmax;
            memcpy(&absmax, block, sizeof absmax);
            __m256 scale = _mm256_set1_ps(absmax), values[8];
            for (long g = 0; g < 8; g++) values[g] = expand_4bit(block + 4 + 4 * g, low_codes, high_codes);
            for (long i = 0; i < m; i++) {
                const float *xi = x + i * ldx + b * 64;
                __m256 s = _mm256_mul_ps(values[0], _mm256_loadu_ps(xi));
                for (long g = 1; g < 8; g++) s = _mm256_fmadd_ps(values[g], _mm256_loadu_ps(xi + 8 * g), s);
                acc[i] = _mm256_fmadd_ps(scale, s, acc[i]);
            }
        }
        for (long i = 0; i < m; i++) out[i * ldo + r] = sum8(acc[i]);
    }
}

#else

// Not x86: never called (fledge_cpu_has_avx2_fma() returns 0).
void fledge_q8_0_matvec(long m, long k, const float *x, long ldx, const uint8_t *w, long row_bytes, long rows,
                        float *out, long ldo) {}
void fledge_q4_0_matvec(long m, long k, const float *x, long ldx, const uint8_t *w, long row_bytes, long rows,
                        float *out, long ldo) {}
void fledge_4bit_matvec(long m, long k, const float *x, long ldx, const uint8_t *w, long row_bytes, long rows,
                        float *out, long ldo, const float *codebook) {}

#endif
