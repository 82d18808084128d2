#include "FledgeKernels.h"

// The float32 product of one activation row with a weight stored row by row (decoding one
// sequence, the output head and every float linear layer): AVX-512, four weight rows at a time.

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx2,fma,avx512f,avx512vl,avx512bw,avx512dq")))

// c[j] (+)= Σ_p x[p] · b[j·ldb + p] for j < n: four rows of B at a time, one zmm accumulator
// each, the row tail read with a mask. Each row of B is read exactly once, in order; the next
// group's rows are prefetched a group ahead (the four streams start together, so the hardware
// prefetchers alone ramp up late on rows of a few KB).
AVX512 void fledge_gemv_nt_avx512(long n, long k, const float *x, const float *b, long ldb, float *c, int accumulate) {
    long tail = k % 16, body = k - tail;
    __mmask16 mask = (__mmask16)((1u << tail) - 1);
    long j = 0;
    for (; j + 4 <= n; j += 4) {
        const float *w0 = b + j * ldb, *w1 = w0 + ldb, *w2 = w1 + ldb, *w3 = w2 + ldb;
        __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
        long p = 0;
        for (; p < body; p += 16) {
            _mm_prefetch((const char *)(w0 + 4 * ldb + p), _MM_HINT_T0);
            _mm_prefetch((const char *)(w1 + 4 * ldb + p), _MM_HINT_T0);
            _mm_prefetch((const char *)(w2 + 4 * ldb + p), _MM_HINT_T0);
            _mm_prefetch((const char *)(w3 + 4 * ldb + p), _MM_HINT_T0);
            __m512 v = _mm512_loadu_ps(x + p);
            s0 = _mm512_fmadd_ps(v, _mm512_loadu_ps(w0 + p), s0);
            s1 = _mm512_fmadd_ps(v, _mm512_loadu_ps(w1 + p), s1);
            s2 = _mm512_fmadd_ps(v, _mm512_loadu_ps(w2 + p), s2);
            s3 = _mm512_fmadd_ps(v, _mm512_loadu_ps(w3 + p), s3);
        }
        if (tail) {
            __m512 v = _mm512_maskz_loadu_ps(mask, x + p);
            s0 = _mm512_fmadd_ps(v, _mm512_maskz_loadu_ps(mask, w0 + p), s0);
            s1 = _mm512_fmadd_ps(v, _mm512_maskz_loadu_ps(mask, w1 + p), s1);
            s2 = _mm512_fmadd_ps(v, _mm512_maskz_loadu_ps(mask, w2 + p), s2);
            s3 = _mm512_fmadd_ps(v, _mm512_maskz_loadu_ps(mask, w3 + p), s3);
        }
        float sums[4] = {_mm512_reduce_add_ps(s0), _mm512_reduce_add_ps(s1), _mm512_reduce_add_ps(s2), _mm512_reduce_add_ps(s3)};
        for (long q = 0; q < 4; q++) c[j + q] = (accumulate ? c[j + q] : 0) + sums[q];
    }
    for (; j < n; j++) {
        const float *w = b + j * ldb;
        __m512 s = _mm512_setzero_ps();
        long p = 0;
        for (; p < body; p += 16) s = _mm512_fmadd_ps(_mm512_loadu_ps(x + p), _mm512_loadu_ps(w + p), s);
        if (tail) s = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, x + p), _mm512_maskz_loadu_ps(mask, w + p), s);
        c[j] = (accumulate ? c[j] : 0) + _mm512_reduce_add_ps(s);
    }
}

#else

// Not x86: never called (fledge_cpu_has_avx512() returns 0).
void fledge_gemv_nt_avx512(long n, long k, const float *x, const float *b, long ldb, float *c, int accumulate) {}

#endif
