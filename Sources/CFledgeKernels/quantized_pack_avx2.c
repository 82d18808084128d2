#include "FledgeKernels.h"

#include <stdint.h>
#include <string.h>

// Decoding block-quantized weights into float32 for the blocked GEMM's packing of weight panels
// (prefill and training products): each block is expanded in registers and stored once, and the
// packer then lays the floats out as `fledge_pack_b` does. Exact: the same float32 products as
// the portable Swift decoders (`BitsAndBytes4BitFormat.dequantize`).

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "avx2_common.h"

AVX2 void fledge_4bit_decode(long count, const unsigned char *blocks, float *out, const float *codebook) {
    __m256 low_half = _mm256_loadu_ps(codebook), high_half = _mm256_loadu_ps(codebook + 8);
    __m128i mask = _mm_set1_epi8(0x0F);
    for (long b = 0; b < count; b++) {
        const uint8_t *block = blocks + b * 36;
        float absmax;
        memcpy(&absmax, block, sizeof absmax);
        __m256 scale = _mm256_set1_ps(absmax);
        float *values = out + b * 64;
        for (long half = 0; half < 2; half++) {
            __m128i packed = _mm_loadu_si128((const __m128i *)(block + 4 + 16 * half));
            __m128i high = _mm_and_si128(_mm_srli_epi16(packed, 4), mask), low = _mm_and_si128(packed, mask);
            // Byte j holds value 2j in its high nibble and value 2j + 1 in its low one.
            __m128i first = _mm_unpacklo_epi8(high, low), second = _mm_unpackhi_epi8(high, low);
            __m128i groups[4] = {first, _mm_srli_si128(first, 8), second, _mm_srli_si128(second, 8)};
            for (long g = 0; g < 4; g++) {
                __m256 decoded = lookup16(_mm256_cvtepu8_epi32(groups[g]), low_half, high_half);
                _mm256_storeu_ps(values + 32 * half + 8 * g, _mm256_mul_ps(decoded, scale));
            }
        }
    }
}

#else

// Not x86: never called (fledge_cpu_has_avx2_fma() returns 0).
void fledge_4bit_decode(long count, const unsigned char *blocks, float *out, const float *codebook) {}

#endif
