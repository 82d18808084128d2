// What the AVX2 kernel files share (x86 only; included after <immintrin.h>).
#ifndef FLEDGE_AVX2_COMMON_H
#define FLEDGE_AVX2_COMMON_H

// Compiles a function for AVX2 + FMA while the rest of the package keeps the default target.
#define AVX2 __attribute__((target("avx2,fma")))

// The sum of the eight lanes of v.
AVX2 static inline float sum8(__m256 v) {
    __m128 sum = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
    sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
    return _mm_cvtss_f32(sum);
}

// Eight 4-bit codes (one per 32-bit lane, 0...15) looked up in a 16-entry codebook held as two
// halves of eight: bit 3 of each code picks the half.
AVX2 static inline __m256 lookup16(__m256i codes, __m256 low_half, __m256 high_half) {
    __m256 low = _mm256_permutevar8x32_ps(low_half, codes), high = _mm256_permutevar8x32_ps(high_half, codes);
    return _mm256_blendv_ps(low, high, _mm256_castsi256_ps(_mm256_slli_epi32(codes, 28)));
}

#endif
