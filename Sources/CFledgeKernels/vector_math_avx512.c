#include "FledgeKernels.h"

// The vector-math kernels of the AVX-512 set: the AVX2 kernels' arithmetic (`vector_math_avx2.c`,
// the same Cephes exp and sigmoid, operation for operation) on 16 floats at a time, with the
// tail of a row read and written under a mask instead of one float at a time.

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <math.h>

#define AVX512 __attribute__((target("avx2,fma,avx512f,avx512vl,avx512bw,avx512dq")))

// The mask of the first `count` (< 16) lanes.
AVX512 static inline __mmask16 first(long count) { return (__mmask16)((1u << count) - 1); }

// exp(x) for 16 floats, as `exp8` of the AVX2 set: about 1 ulp, 0 below -87.3, +inf above
// ln(FLT_MAX); 2^n applied in two halves so that n = 128 stays exact.
AVX512 static inline __m512 exp16(__m512 x) {
    const __m512 high = _mm512_set1_ps(88.72283905206835f), low = _mm512_set1_ps(-87.33654475f);
    __mmask16 underflow = _mm512_cmp_ps_mask(x, low, _CMP_LT_OQ);
    __mmask16 overflow = _mm512_cmp_ps_mask(x, high, _CMP_GT_OQ);
    x = _mm512_min_ps(_mm512_max_ps(x, low), high);
    __m512 fx = _mm512_roundscale_ps(_mm512_fmadd_ps(x, _mm512_set1_ps(1.44269504088896341f), _mm512_set1_ps(0.5f)),
                                     _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    x = _mm512_fnmadd_ps(fx, _mm512_set1_ps(0.693359375f), x);
    x = _mm512_fnmadd_ps(fx, _mm512_set1_ps(-2.12194440e-4f), x);
    __m512 y = _mm512_set1_ps(1.9875691500e-4f);
    y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(1.3981999507e-3f));
    y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(8.3334519073e-3f));
    y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(4.1665795894e-2f));
    y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(1.6666665459e-1f));
    y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(5.0000001201e-1f));
    y = _mm512_fmadd_ps(y, _mm512_mul_ps(x, x), _mm512_add_ps(x, _mm512_set1_ps(1.0f)));
    __m512i n = _mm512_cvttps_epi32(fx);
    __m512i half = _mm512_srai_epi32(n, 1), rest = _mm512_sub_epi32(n, half);
    __m512i bias = _mm512_set1_epi32(127);
    y = _mm512_mul_ps(y, _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(half, bias), 23)));
    y = _mm512_mul_ps(y, _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(rest, bias), 23)));
    y = _mm512_maskz_mov_ps((__mmask16)~underflow, y);
    return _mm512_mask_mov_ps(y, overflow, _mm512_set1_ps(INFINITY));
}

// σ(x) = 1 / (1 + exp(−x)) with rcp14 and one Newton step, as `sigmoid8` (0 where exp(−x) is inf).
AVX512 static inline __m512 sigmoid16(__m512 x) {
    __m512 one = _mm512_set1_ps(1.0f);
    __m512 d = _mm512_add_ps(one, exp16(_mm512_sub_ps(_mm512_setzero_ps(), x)));
    __m512 r = _mm512_rcp14_ps(d);
    r = _mm512_mul_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(2.0f)));
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(d, _mm512_set1_ps(INFINITY), _CMP_NEQ_OQ), r);
}

AVX512 void fledge_exp_affine_avx512(const float *x, float *y, long n, float scale, float shift) {
    __m512 vs = _mm512_set1_ps(scale), vb = _mm512_set1_ps(shift);
    long i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, exp16(_mm512_fmadd_ps(_mm512_loadu_ps(x + i), vs, vb)));
    if (i < n) {
        __mmask16 tail = first(n - i);
        _mm512_mask_storeu_ps(y + i, tail, exp16(_mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, x + i), vs, vb)));
    }
}

AVX512 float fledge_softmax_row_avx512(float *x, long n, float scale) {
    __mmask16 tail = first(n % 16);
    long body = n - n % 16;
    __m512 vmax = _mm512_set1_ps(-INFINITY);
    for (long i = 0; i < body; i += 16) vmax = _mm512_max_ps(vmax, _mm512_loadu_ps(x + i));
    if (tail) vmax = _mm512_max_ps(vmax, _mm512_mask_loadu_ps(vmax, tail, x + body));
    float peak = _mm512_reduce_max_ps(vmax);
    __m512 vs = _mm512_set1_ps(scale), shift = _mm512_set1_ps(-peak * scale), vsum = _mm512_setzero_ps();
    for (long i = 0; i < body; i += 16) {
        __m512 e = exp16(_mm512_fmadd_ps(_mm512_loadu_ps(x + i), vs, shift));
        _mm512_storeu_ps(x + i, e);
        vsum = _mm512_add_ps(vsum, e);
    }
    if (tail) {
        __m512 e = _mm512_maskz_mov_ps(tail, exp16(_mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, x + body), vs, shift)));
        _mm512_mask_storeu_ps(x + body, tail, e);
        vsum = _mm512_add_ps(vsum, e);
    }
    float sum = _mm512_reduce_add_ps(vsum);
    __m512 inverse = _mm512_set1_ps(1.0f / sum);
    for (long i = 0; i < body; i += 16) _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), inverse));
    if (tail) _mm512_mask_storeu_ps(x + body, tail, _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, x + body), inverse));
    return peak * scale + logf(sum);
}

AVX512 void fledge_swiglu_forward_avx512(const float *gate, const float *up, float *out, long n) {
    for (long i = 0; i < n; i += 16) {
        __mmask16 lanes = n - i >= 16 ? (__mmask16)0xFFFF : first(n - i);
        __m512 g = _mm512_maskz_loadu_ps(lanes, gate + i);
        _mm512_mask_storeu_ps(out + i, lanes, _mm512_mul_ps(_mm512_mul_ps(g, sigmoid16(g)), _mm512_maskz_loadu_ps(lanes, up + i)));
    }
}

AVX512 void fledge_swiglu_backward_avx512(const float *gate, const float *up, const float *grad, float *d_gate, float *d_up,
                                          long n) {
    __m512 one = _mm512_set1_ps(1.0f);
    for (long i = 0; i < n; i += 16) {
        __mmask16 lanes = n - i >= 16 ? (__mmask16)0xFFFF : first(n - i);
        __m512 g = _mm512_maskz_loadu_ps(lanes, gate + i), u = _mm512_maskz_loadu_ps(lanes, up + i);
        __m512 dy = _mm512_maskz_loadu_ps(lanes, grad + i);
        __m512 s = sigmoid16(g);
        if (d_gate) {
            // d silu(g)/dg = s (1 + g (1 − s))
            __m512 slope = _mm512_mul_ps(s, _mm512_fmadd_ps(g, _mm512_sub_ps(one, s), one));
            _mm512_mask_storeu_ps(d_gate + i, lanes, _mm512_mul_ps(_mm512_mul_ps(dy, u), slope));
        }
        if (d_up) _mm512_mask_storeu_ps(d_up + i, lanes, _mm512_mul_ps(dy, _mm512_mul_ps(g, s)));
    }
}

// GELU-tanh(x) = x σ(2u), u = √(2/π)(x + 0.044715 x³), as in `vector_math_avx2.c`.
#define GELU_K (2.0f * 0.7978845608028654f)
#define GELU_C 0.044715f

AVX512 void fledge_geglu_forward_avx512(const float *gate, const float *up, float *out, long n) {
    __m512 k = _mm512_set1_ps(GELU_K), c = _mm512_set1_ps(GELU_C), one = _mm512_set1_ps(1.0f);
    for (long i = 0; i < n; i += 16) {
        __mmask16 lanes = n - i >= 16 ? (__mmask16)0xFFFF : first(n - i);
        __m512 x = _mm512_maskz_loadu_ps(lanes, gate + i);
        __m512 s = sigmoid16(_mm512_mul_ps(_mm512_mul_ps(k, x), _mm512_fmadd_ps(c, _mm512_mul_ps(x, x), one)));
        _mm512_mask_storeu_ps(out + i, lanes, _mm512_mul_ps(_mm512_mul_ps(x, s), _mm512_maskz_loadu_ps(lanes, up + i)));
    }
}

AVX512 void fledge_geglu_backward_avx512(const float *gate, const float *up, const float *grad, float *d_gate, float *d_up,
                                         long n) {
    __m512 k = _mm512_set1_ps(GELU_K), c = _mm512_set1_ps(GELU_C), c3 = _mm512_set1_ps(3.0f * GELU_C);
    __m512 one = _mm512_set1_ps(1.0f);
    for (long i = 0; i < n; i += 16) {
        __mmask16 lanes = n - i >= 16 ? (__mmask16)0xFFFF : first(n - i);
        __m512 x = _mm512_maskz_loadu_ps(lanes, gate + i), u = _mm512_maskz_loadu_ps(lanes, up + i);
        __m512 dy = _mm512_maskz_loadu_ps(lanes, grad + i);
        __m512 square = _mm512_mul_ps(x, x);
        __m512 s = sigmoid16(_mm512_mul_ps(_mm512_mul_ps(k, x), _mm512_fmadd_ps(c, square, one)));
        if (d_gate) {
            // d (x σ(v))/dx = σ(v) + x σ(v)(1 − σ(v)) dv/dx, dv/dx = k (1 + 3c x²)
            __m512 dv = _mm512_mul_ps(k, _mm512_fmadd_ps(c3, square, one));
            __m512 slope = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_mul_ps(x, s), _mm512_sub_ps(one, s)), dv, s);
            _mm512_mask_storeu_ps(d_gate + i, lanes, _mm512_mul_ps(_mm512_mul_ps(dy, u), slope));
        }
        if (d_up) _mm512_mask_storeu_ps(d_up + i, lanes, _mm512_mul_ps(dy, _mm512_mul_ps(x, s)));
    }
}

AVX512 void fledge_softmax_stats_avx512(const float *z, long n, float scale, float *running_max, float *running_sum,
                                        float *running_weighted, float *weights) {
    if (n <= 0) return;
    __mmask16 tail = first(n % 16);
    long body = n - n % 16;
    __m512 vs = _mm512_set1_ps(scale), vmax = _mm512_set1_ps(-INFINITY);
    for (long i = 0; i < body; i += 16) vmax = _mm512_max_ps(vmax, _mm512_mul_ps(_mm512_loadu_ps(z + i), vs));
    if (tail) vmax = _mm512_mask_max_ps(vmax, tail, vmax, _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, z + body), vs));
    float new_max = fmaxf(*running_max, _mm512_reduce_max_ps(vmax));
    if (new_max == -INFINITY) return;
    // Rescale what was accumulated against the old maximum.
    float rescale = *running_max == -INFINITY ? 0.0f : expf(*running_max - new_max);
    __m512 shift = _mm512_set1_ps(-new_max), vsum = _mm512_setzero_ps(), vweighted = _mm512_setzero_ps();
    for (long i = 0; i < n; i += 16) {
        __mmask16 lanes = i < body ? (__mmask16)0xFFFF : tail;
        __m512 value = _mm512_mul_ps(_mm512_maskz_loadu_ps(lanes, z + i), vs);
        __m512 e = _mm512_maskz_mov_ps(lanes, exp16(_mm512_add_ps(value, shift)));
        if (weights) _mm512_mask_storeu_ps(weights + i, lanes, e);
        vsum = _mm512_add_ps(vsum, e);
        vweighted = _mm512_fmadd_ps(e, value, vweighted);
    }
    *running_sum = *running_sum * rescale + _mm512_reduce_add_ps(vsum);
    *running_weighted = *running_weighted * rescale + _mm512_reduce_add_ps(vweighted);
    *running_max = new_max;
}

AVX512 void fledge_selective_softmax_grad_avx512(float *z, long n, float scale, float lse, float entropy, float grad_logp,
                                                 float grad_entropy) {
    // With v = z·scale and p = exp(v − lse): d/dz of g·log p(t) + h·H is
    // scale·(−g·p − h·p·(v − lse + H)) (+ g·scale at the target, added by the caller).
    __m512 vs = _mm512_set1_ps(scale), vlse = _mm512_set1_ps(lse), vh = _mm512_set1_ps(entropy - lse);
    __m512 vg = _mm512_set1_ps(-grad_logp * scale), vge = _mm512_set1_ps(-grad_entropy * scale);
    for (long i = 0; i < n; i += 16) {
        __mmask16 lanes = n - i >= 16 ? (__mmask16)0xFFFF : first(n - i);
        __m512 value = _mm512_mul_ps(_mm512_maskz_loadu_ps(lanes, z + i), vs);
        __m512 p = exp16(_mm512_sub_ps(value, vlse));
        __m512 entropy_term = _mm512_mul_ps(vge, _mm512_add_ps(value, vh));
        _mm512_mask_storeu_ps(z + i, lanes, _mm512_mul_ps(p, _mm512_add_ps(vg, entropy_term)));
    }
}

#else

// Not x86: never called (fledge_cpu_has_avx512() returns 0).
void fledge_exp_affine_avx512(const float *x, float *y, long n, float scale, float shift) {}
float fledge_softmax_row_avx512(float *x, long n, float scale) { return 0; }
void fledge_swiglu_forward_avx512(const float *gate, const float *up, float *out, long n) {}
void fledge_swiglu_backward_avx512(const float *gate, const float *up, const float *grad, float *d_gate, float *d_up, long n) {}
void fledge_geglu_forward_avx512(const float *gate, const float *up, float *out, long n) {}
void fledge_geglu_backward_avx512(const float *gate, const float *up, const float *grad, float *d_gate, float *d_up, long n) {}
void fledge_softmax_stats_avx512(const float *z, long n, float scale, float *running_max, float *running_sum,
                                 float *running_weighted, float *weights) {}
void fledge_selective_softmax_grad_avx512(float *z, long n, float scale, float lse, float entropy, float grad_logp,
                                          float grad_entropy) {}

#endif
