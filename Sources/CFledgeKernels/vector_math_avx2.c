#include "FledgeKernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <math.h>

#include "avx2_common.h"

// exp(x) for 8 floats: Cephes' expf (range reduction by ln 2, degree-5 polynomial), about
// 1 ulp; inputs below -87.3 (where results leave the normal range) give 0 and above
// ln(FLT_MAX) ≈ 88.72 give +inf. 2^n is applied in two halves so that n = 128 stays exact.
AVX2 static inline __m256 exp8(__m256 x) {
    const __m256 high = _mm256_set1_ps(88.72283905206835f), low = _mm256_set1_ps(-87.33654475f);
    __m256 underflow = _mm256_cmp_ps(x, low, _CMP_LT_OQ);
    __m256 overflow = _mm256_cmp_ps(x, high, _CMP_GT_OQ);
    x = _mm256_min_ps(_mm256_max_ps(x, low), high);
    __m256 fx = _mm256_floor_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f)));
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
    __m256 y = _mm256_set1_ps(1.9875691500e-4f);
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507e-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073e-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894e-2f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459e-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201e-1f));
    y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
    __m256i n = _mm256_cvttps_epi32(fx);
    __m256i half = _mm256_srai_epi32(n, 1), rest = _mm256_sub_epi32(n, half);
    __m256i bias = _mm256_set1_epi32(127);
    y = _mm256_mul_ps(y, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, bias), 23)));
    y = _mm256_mul_ps(y, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(rest, bias), 23)));
    y = _mm256_andnot_ps(underflow, y);
    return _mm256_blendv_ps(y, _mm256_set1_ps(INFINITY), overflow);
}

// σ(x) = 1 / (1 + exp(−x)), with the reciprocal from rcp and one Newton step (about 1 ulp,
// several times cheaper than a division).
AVX2 static inline __m256 sigmoid8(__m256 x) {
    __m256 one = _mm256_set1_ps(1.0f);
    __m256 d = _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), x)));
    __m256 r = _mm256_rcp_ps(d);
    r = _mm256_mul_ps(r, _mm256_fnmadd_ps(d, r, _mm256_set1_ps(2.0f)));
    // exp(−x) overflows to inf for x < −88.7: rcp(inf) is 0, but the Newton step gives NaN.
    return _mm256_and_ps(r, _mm256_cmp_ps(d, _mm256_set1_ps(INFINITY), _CMP_NEQ_OQ));
}

AVX2 static inline float max8(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

// Loads the first `count` (< 8) floats, filling the rest with `fill`.
AVX2 static inline __m256 load_partial(const float *x, long count, float fill) {
    float buffer[8];
    for (long i = 0; i < 8; i++) buffer[i] = i < count ? x[i] : fill;
    return _mm256_loadu_ps(buffer);
}

AVX2 static inline void store_partial(float *y, __m256 v, long count) {
    float buffer[8];
    _mm256_storeu_ps(buffer, v);
    for (long i = 0; i < count; i++) y[i] = buffer[i];
}

AVX2 void fledge_exp_affine(const float *x, float *y, long n, float scale, float shift) {
    __m256 vs = _mm256_set1_ps(scale), vb = _mm256_set1_ps(shift);
    long i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, exp8(_mm256_fmadd_ps(_mm256_loadu_ps(x + i), vs, vb)));
    if (i < n) store_partial(y + i, exp8(_mm256_fmadd_ps(load_partial(x + i, n - i, 0), vs, vb)), n - i);
}

AVX2 float fledge_softmax_row(float *x, long n, float scale) {
    __m256 vmax = _mm256_set1_ps(-INFINITY);
    long i = 0;
    for (; i + 8 <= n; i += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(x + i));
    float peak = max8(vmax);
    for (; i < n; i++) peak = fmaxf(peak, x[i]);
    __m256 vs = _mm256_set1_ps(scale), shift = _mm256_set1_ps(-peak * scale), vsum = _mm256_setzero_ps();
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 e = exp8(_mm256_fmadd_ps(_mm256_loadu_ps(x + i), vs, shift));
        _mm256_storeu_ps(x + i, e);
        vsum = _mm256_add_ps(vsum, e);
    }
    float sum = sum8(vsum);
    for (; i < n; i++) {
        x[i] = expf(x[i] * scale - peak * scale);
        sum += x[i];
    }
    __m256 inverse = _mm256_set1_ps(1.0f / sum);
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inverse));
    for (; i < n; i++) x[i] *= 1.0f / sum;
    return peak * scale + logf(sum);
}

AVX2 void fledge_swiglu_forward(const float *gate, const float *up, float *out, long n) {
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 g = _mm256_loadu_ps(gate + i);
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(g, sigmoid8(g)), _mm256_loadu_ps(up + i)));
    }
    for (; i < n; i++) out[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

AVX2 void fledge_swiglu_backward(const float *gate, const float *up, const float *grad, float *d_gate, float *d_up, long n) {
    __m256 one = _mm256_set1_ps(1.0f);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 g = _mm256_loadu_ps(gate + i), u = _mm256_loadu_ps(up + i), dy = _mm256_loadu_ps(grad + i);
        __m256 s = sigmoid8(g);
        if (d_gate) {
            // d silu(g)/dg = s (1 + g (1 − s))
            __m256 slope = _mm256_mul_ps(s, _mm256_fmadd_ps(g, _mm256_sub_ps(one, s), one));
            _mm256_storeu_ps(d_gate + i, _mm256_mul_ps(_mm256_mul_ps(dy, u), slope));
        }
        if (d_up) _mm256_storeu_ps(d_up + i, _mm256_mul_ps(dy, _mm256_mul_ps(g, s)));
    }
    for (; i < n; i++) {
        float s = 1.0f / (1.0f + expf(-gate[i]));
        if (d_gate) d_gate[i] = grad[i] * up[i] * s * (1.0f + gate[i] * (1.0f - s));
        if (d_up) d_up[i] = grad[i] * gate[i] * s;
    }
}

// GELU-tanh(x) = 0.5 x (1 + tanh(u)) = x σ(2u), u = √(2/π)(x + 0.044715 x³), as 1 + tanh(u) = 2σ(2u).
#define GELU_K (2.0f * 0.7978845608028654f)
#define GELU_C 0.044715f

static inline void gelu_tanh_gate(float x, float *gate, float *slope) {
    float square = x * x;
    *gate = 1.0f / (1.0f + expf(-GELU_K * x * (1.0f + GELU_C * square)));
    *slope = GELU_K * (1.0f + 3.0f * GELU_C * square);
}

AVX2 void fledge_geglu_forward(const float *gate, const float *up, float *out, long n) {
    __m256 k = _mm256_set1_ps(GELU_K), c = _mm256_set1_ps(GELU_C), one = _mm256_set1_ps(1.0f);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(gate + i);
        __m256 s = sigmoid8(_mm256_mul_ps(_mm256_mul_ps(k, x), _mm256_fmadd_ps(c, _mm256_mul_ps(x, x), one)));
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(x, s), _mm256_loadu_ps(up + i)));
    }
    for (; i < n; i++) {
        float s, slope;
        gelu_tanh_gate(gate[i], &s, &slope);
        out[i] = gate[i] * s * up[i];
    }
}

AVX2 void fledge_geglu_backward(const float *gate, const float *up, const float *grad, float *d_gate, float *d_up, long n) {
    __m256 k = _mm256_set1_ps(GELU_K), c = _mm256_set1_ps(GELU_C), c3 = _mm256_set1_ps(3.0f * GELU_C);
    __m256 one = _mm256_set1_ps(1.0f);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(gate + i), u = _mm256_loadu_ps(up + i), dy = _mm256_loadu_ps(grad + i);
        __m256 square = _mm256_mul_ps(x, x);
        __m256 s = sigmoid8(_mm256_mul_ps(_mm256_mul_ps(k, x), _mm256_fmadd_ps(c, square, one)));
        if (d_gate) {
            // d (x σ(v))/dx = σ(v) + x σ(v)(1 − σ(v)) dv/dx, dv/dx = k (1 + 3c x²)
            __m256 dv = _mm256_mul_ps(k, _mm256_fmadd_ps(c3, square, one));
            __m256 slope = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_mul_ps(x, s), _mm256_sub_ps(one, s)), dv, s);
            _mm256_storeu_ps(d_gate + i, _mm256_mul_ps(_mm256_mul_ps(dy, u), slope));
        }
        if (d_up) _mm256_storeu_ps(d_up + i, _mm256_mul_ps(dy, _mm256_mul_ps(x, s)));
    }
    for (; i < n; i++) {
        float x = gate[i], s, dv;
        gelu_tanh_gate(x, &s, &dv);
        if (d_gate) d_gate[i] = grad[i] * up[i] * (s + x * s * (1.0f - s) * dv);
        if (d_up) d_up[i] = grad[i] * x * s;
    }
}

AVX2 void fledge_softmax_stats(const float *z, long n, float scale, float *running_max, float *running_sum,
                               float *running_weighted, float *weights) {
    if (n <= 0) return;
    __m256 vs = _mm256_set1_ps(scale), vmax = _mm256_set1_ps(-INFINITY);
    long i = 0;
    for (; i + 8 <= n; i += 8) vmax = _mm256_max_ps(vmax, _mm256_mul_ps(_mm256_loadu_ps(z + i), vs));
    float block_max = max8(vmax);
    for (; i < n; i++) block_max = fmaxf(block_max, z[i] * scale);
    float new_max = fmaxf(*running_max, block_max);
    if (new_max == -INFINITY) return;
    // Rescale what was accumulated against the old maximum.
    float rescale = *running_max == -INFINITY ? 0.0f : expf(*running_max - new_max);
    __m256 shift = _mm256_set1_ps(-new_max), vsum = _mm256_setzero_ps(), vweighted = _mm256_setzero_ps();
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 value = _mm256_mul_ps(_mm256_loadu_ps(z + i), vs);
        __m256 e = exp8(_mm256_add_ps(value, shift));
        if (weights) _mm256_storeu_ps(weights + i, e);
        vsum = _mm256_add_ps(vsum, e);
        vweighted = _mm256_fmadd_ps(e, value, vweighted);
    }
    float sum = sum8(vsum), weighted = sum8(vweighted);
    for (; i < n; i++) {
        float value = z[i] * scale, e = expf(value - new_max);
        if (weights) weights[i] = e;
        sum += e;
        weighted += e * value;
    }
    *running_sum = *running_sum * rescale + sum;
    *running_weighted = *running_weighted * rescale + weighted;
    *running_max = new_max;
}

AVX2 void fledge_selective_softmax_grad(float *z, long n, float scale, float lse, float entropy, float grad_logp,
                                        float grad_entropy) {
    // With v = z·scale and p = exp(v − lse): d/dz of g·log p(t) + h·H is
    // scale·(−g·p − h·p·(v − lse + H)) (+ g·scale at the target, added by the caller).
    __m256 vs = _mm256_set1_ps(scale), vlse = _mm256_set1_ps(lse), vh = _mm256_set1_ps(entropy - lse);
    __m256 vg = _mm256_set1_ps(-grad_logp * scale), vge = _mm256_set1_ps(-grad_entropy * scale);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 value = _mm256_mul_ps(_mm256_loadu_ps(z + i), vs);
        __m256 p = exp8(_mm256_sub_ps(value, vlse));
        __m256 entropy_term = _mm256_mul_ps(vge, _mm256_add_ps(value, vh));
        _mm256_storeu_ps(z + i, _mm256_mul_ps(p, _mm256_add_ps(vg, entropy_term)));
    }
    for (; i < n; i++) {
        float value = z[i] * scale, p = expf(value - lse);
        z[i] = p * (-grad_logp * scale - grad_entropy * scale * (value - lse + entropy));
    }
}

#else

void fledge_exp_affine(const float *x, float *y, long n, float scale, float shift) {}
float fledge_softmax_row(float *x, long n, float scale) { return 0; }
void fledge_swiglu_forward(const float *gate, const float *up, float *out, long n) {}
void fledge_swiglu_backward(const float *gate, const float *up, const float *grad, float *d_gate, float *d_up, long n) {}
void fledge_geglu_forward(const float *gate, const float *up, float *out, long n) {}
void fledge_geglu_backward(const float *gate, const float *up, const float *grad, float *d_gate, float *d_up, long n) {}
void fledge_softmax_stats(const float *z, long n, float scale, float *running_max, float *running_sum, float *running_weighted,
                          float *weights) {}
void fledge_selective_softmax_grad(float *z, long n, float scale, float lse, float entropy, float grad_logp, float grad_entropy) {}

#endif
