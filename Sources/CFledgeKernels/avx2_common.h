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

#endif
