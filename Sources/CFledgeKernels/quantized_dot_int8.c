#include "FledgeKernels.h"

#include <stdint.h>
#include <string.h>

// Integer decoding products with llama.cpp's Q8_0 and Q4_0 weights, as ggml computes them
// (`ggml_vec_dot_q8_0_q8_0`, `ggml_vec_dot_q4_0_q8_0`): each activation row is quantized once per
// product to 32-value blocks of signed bytes with a float16-rounded scale (Q8_0's encoding), and
// each weight block is dotted with the activation block in integers — AVX2's maddubs/madd, or
// AVX-512 VNNI's vpdpbusd — the exact integer sum then scaled by the two blocks' scales.

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "avx2_common.h"

// AVX2 with the float16 conversions (every AVX2 CPU has F16C; `fledge_cpu_has_avx2_fma` checks).
#define AVX2_F16C __attribute__((target("avx2,fma,f16c")))
// The AVX-512 VNNI set: vpdpbusd on 256-bit vectors (EVEX-encoded, AVX-512 VL).
#define AVX512_VNNI __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512dq,avx512vnni")))

// The float a little-endian float16 at `bytes` stands for.
AVX2_F16C static inline float load_half(const uint8_t *bytes) {
    uint16_t bits;
    memcpy(&bits, bytes, sizeof bits);
    return _cvtsh_ss(bits);
}

// Round half away from zero (C's roundf) of each lane, exactly: truncate, then step one away
// from zero where the dropped fraction is at least one half (v − trunc(v) is exact).
AVX2 static inline __m256 round_away(__m256 v) {
    __m256 truncated = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __m256 sign = _mm256_and_ps(v, _mm256_set1_ps(-0.0f));
    __m256 fraction = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(v, truncated));
    __m256 step = _mm256_and_ps(_mm256_cmp_ps(fraction, _mm256_set1_ps(0.5f), _CMP_GE_OQ), _mm256_set1_ps(1.0f));
    return _mm256_add_ps(truncated, _mm256_or_ps(step, sign));
}

// The largest of the eight lanes.
AVX2 static inline float max8(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

// The sum of the eight int32 lanes.
AVX2 static inline int32_t sum8_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

AVX2_F16C void fledge_quantize_q8_avx2(long m, long k, const float *x, long ldx, int8_t *levels, float *scales,
                                       int32_t *sums) {
    long blocks = k / 32;
    const __m256 magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    for (long i = 0; i < m; i++) {
        for (long b = 0; b < blocks; b++) {
            const float *v = x + i * ldx + b * 32;
            __m256 v0 = _mm256_loadu_ps(v), v1 = _mm256_loadu_ps(v + 8), v2 = _mm256_loadu_ps(v + 16), v3 = _mm256_loadu_ps(v + 24);
            __m256 largest = _mm256_max_ps(_mm256_max_ps(_mm256_and_ps(v0, magnitude), _mm256_and_ps(v1, magnitude)),
                                           _mm256_max_ps(_mm256_and_ps(v2, magnitude), _mm256_and_ps(v3, magnitude)));
            // As ggml's quantize_row_q8_0_ref: d = max|x| / 127, levels round(x · (1/d)).
            float scale = max8(largest) / 127.0f;
            __m256 inverse = _mm256_set1_ps(scale == 0.0f ? 0.0f : 1.0f / scale);
            __m256i q0 = _mm256_cvtps_epi32(round_away(_mm256_mul_ps(v0, inverse)));
            __m256i q1 = _mm256_cvtps_epi32(round_away(_mm256_mul_ps(v1, inverse)));
            __m256i q2 = _mm256_cvtps_epi32(round_away(_mm256_mul_ps(v2, inverse)));
            __m256i q3 = _mm256_cvtps_epi32(round_away(_mm256_mul_ps(v3, inverse)));
            sums[i * blocks + b] = sum8_epi32(_mm256_add_epi32(_mm256_add_epi32(q0, q1), _mm256_add_epi32(q2, q3)));
            // Pack to bytes; the packs interleave 128-bit lanes, the permutation restores the order.
            __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(q0, q1), _mm256_packs_epi32(q2, q3));
            packed = _mm256_permutevar8x32_epi32(packed, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
            _mm256_storeu_si256((__m256i *)(levels + i * k + b * 32), packed);
            // The scale the products use is the float16 one stored in the block.
            scales[i * blocks + b] = _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtps_ph(_mm_set_ss(scale), _MM_FROUND_TO_NEAREST_INT)));
        }
    }
}

// Per-block integer dot products of 32 weight levels with 32 activation levels, as eight int32
// lanes whose sum is the exact product. `init` is added to the lanes (Q4_0's −8·Σa).
//
// Q8_0 (signed × signed): maddubs multiplies unsigned by signed bytes, so the weights' signs move
// onto the activations (|w| · sign(w)·a, as ggml does); |w| ≤ 128 and |a| ≤ 127 keep each pair's
// int16 sum below saturation.
AVX2 static inline __m256i dot_q8_avx2(__m256i w, __m256i a, __m256i init) {
    __m256i products = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(a, w));
    return _mm256_add_epi32(_mm256_madd_epi16(products, _mm256_set1_epi16(1)), init);
}
AVX512_VNNI static inline __m256i dot_q8_vnni(__m256i w, __m256i a, __m256i init) {
    return _mm256_dpbusd_epi32(init, _mm256_sign_epi8(w, w), _mm256_sign_epi8(a, w));
}
// Q4_0 (unsigned nibbles 0…15 × signed): no sign juggling; the −8 offset of the levels is the
// caller's −8·Σa in `init`.
AVX2 static inline __m256i dot_u4_avx2(__m256i w, __m256i a, __m256i init) {
    return _mm256_add_epi32(_mm256_madd_epi16(_mm256_maddubs_epi16(w, a), _mm256_set1_epi16(1)), init);
}
AVX512_VNNI static inline __m256i dot_u4_vnni(__m256i w, __m256i a, __m256i init) {
    return _mm256_dpbusd_epi32(init, w, a);
}

// A Q8_0 block's 32 levels.
AVX2 static inline __m256i levels_q8_0(const uint8_t *block) {
    return _mm256_loadu_si256((const __m256i *)(block + 2));
}
// A Q4_0 block's 32 levels as unsigned bytes: level j in the low nibble of byte j, level j + 16
// in its high nibble.
AVX2 static inline __m256i levels_q4_0(const uint8_t *block) {
    __m128i packed = _mm_loadu_si128((const __m128i *)(block + 2));
    __m256i both = _mm256_insertf128_si256(_mm256_castsi128_si256(packed), _mm_srli_epi16(packed, 4), 1);
    return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

// The Q8_0 correction term is zero; Q4_0's levels are stored +8, so the product carries −8·Σa.
#define CORRECTION_Q8_0(sum) _mm256_setzero_si256()
#define CORRECTION_Q4_0(sum) _mm256_zextsi128_si256(_mm_cvtsi32_si128(-8 * (sum)))

// out[i·ldo + r] = Σ_b d_w(b) · d_a(i, b) · Σ_j w_j a_j over the `rows` weight rows at w + r·row_bytes
// and the m quantized activation rows. One activation row (decoding one sequence) takes two
// weight rows at a time, so that the two accumulators hide the FMA latency and each activation
// block is loaded once for both. Weight rows are short streams (a few hundred bytes to a few KB)
// that the hardware prefetchers pick up late: the rows sixteen ahead are fetched as these are read
// (under perf, without it the loads of the second row took most of the kernel's time).
#define INT8_MATVEC(name, target, block_bytes, levels, dot, correction)                                               \
    target void name(long m, long k, const int8_t *a_levels, const float *a_scales, const int32_t *a_sums,           \
                     const uint8_t *w, long row_bytes, long rows, float *out, long ldo) {                              \
        long blocks = k / 32, r = 0;                                                                                   \
        if (m == 1) {                                                                                                  \
            for (; r + 2 <= rows; r += 2) {                                                                            \
                const uint8_t *row0 = w + r * row_bytes, *row1 = row0 + row_bytes;                                     \
                __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();                                         \
                for (long b = 0; b < blocks; b++) {                                                                    \
                    const uint8_t *block0 = row0 + b * (block_bytes), *block1 = row1 + b * (block_bytes);              \
                    _mm_prefetch((const char *)(block0 + 16 * row_bytes), _MM_HINT_T0);                                 \
                    _mm_prefetch((const char *)(block1 + 16 * row_bytes), _MM_HINT_T0);                                 \
                    __m256i a = _mm256_loadu_si256((const __m256i *)(a_levels + b * 32));                              \
                    __m256i init = correction(a_sums[b]);                                                              \
                    __m256 s0 = _mm256_cvtepi32_ps(dot(levels(block0), a, init));                                      \
                    __m256 s1 = _mm256_cvtepi32_ps(dot(levels(block1), a, init));                                      \
                    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(load_half(block0) * a_scales[b]), s0, acc0);                 \
                    acc1 = _mm256_fmadd_ps(_mm256_set1_ps(load_half(block1) * a_scales[b]), s1, acc1);                 \
                }                                                                                                      \
                out[r] = sum8(acc0);                                                                                   \
                out[r + 1] = sum8(acc1);                                                                               \
            }                                                                                                          \
        }                                                                                                              \
        for (; r < rows; r++) {                                                                                        \
            const uint8_t *row = w + r * row_bytes;                                                                    \
            __m256 acc[8];                                                                                             \
            for (long i = 0; i < m; i++) acc[i] = _mm256_setzero_ps();                                                 \
            for (long b = 0; b < blocks; b++) {                                                                        \
                const uint8_t *block = row + b * (block_bytes);                                                        \
                _mm_prefetch((const char *)(block + 16 * row_bytes), _MM_HINT_T0);                                      \
                __m256i q = levels(block);                                                                             \
                float scale = load_half(block);                                                                        \
                for (long i = 0; i < m; i++) {                                                                         \
                    __m256i a = _mm256_loadu_si256((const __m256i *)(a_levels + i * k + b * 32));                      \
                    __m256 s = _mm256_cvtepi32_ps(dot(q, a, correction(a_sums[i * blocks + b])));                      \
                    acc[i] = _mm256_fmadd_ps(_mm256_set1_ps(scale * a_scales[i * blocks + b]), s, acc[i]);             \
                }                                                                                                      \
            }                                                                                                          \
            for (long i = 0; i < m; i++) out[i * ldo + r] = sum8(acc[i]);                                              \
        }                                                                                                              \
    }

INT8_MATVEC(fledge_q8_0_dot_q8_avx2, AVX2_F16C, 34, levels_q8_0, dot_q8_avx2, CORRECTION_Q8_0)
INT8_MATVEC(q4_0_dot_q8_avx2_by_pairs, static AVX2_F16C, 18, levels_q4_0, dot_u4_avx2, CORRECTION_Q4_0)
// The eight float16 scales at w, w + row_bytes, …, w + 7·row_bytes, widened.
AVX2_F16C static inline __m256 scales8(const uint8_t *w, long row_bytes) {
    __m128i bits = _mm_setzero_si128();
#define INSERT_SCALE(i) { uint16_t half; memcpy(&half, w + (i) * row_bytes, sizeof half); bits = _mm_insert_epi16(bits, half, i); }
    INSERT_SCALE(0) INSERT_SCALE(1) INSERT_SCALE(2) INSERT_SCALE(3) INSERT_SCALE(4) INSERT_SCALE(5) INSERT_SCALE(6) INSERT_SCALE(7)
#undef INSERT_SCALE
    return _mm256_cvtph_ps(bits);
}

// Eight rows' maddubs products (16 int16 lanes each: two level products per lane) summed into
// one vector whose lane r is row r's whole sum. Three levels of hadd_epi16 leave, in each 128-bit
// half, the eight rows' sums of that half's 16 products (at most 16 · 15 · 128 = 30720 in
// magnitude, so no int16 lane wraps); the halves are then widened to int32 and added.
AVX2 static inline __m256i sum_rows8(__m256i p0, __m256i p1, __m256i p2, __m256i p3, __m256i p4, __m256i p5, __m256i p6,
                                     __m256i p7) {
    __m256i h = _mm256_hadd_epi16(_mm256_hadd_epi16(_mm256_hadd_epi16(p0, p1), _mm256_hadd_epi16(p2, p3)),
                                  _mm256_hadd_epi16(_mm256_hadd_epi16(p4, p5), _mm256_hadd_epi16(p6, p7)));
    return _mm256_add_epi32(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(h)), _mm256_cvtepi16_epi32(_mm256_extracti128_si256(h, 1)));
}

// Q4_0 with one activation row (decoding one sequence): eight weight rows per pass, so that each
// block's eight integer sums take one conversion and one FMA (with the eight rows' scales as one
// vector) instead of eight, and no maddwd: on a Zen 1 core, where the integer multiplies share one
// pipe, this is 1.4× the two-rows-at-a-time loop (a standalone timing of the SmolLM2-135M decoder's
// products). Each output is Σ_b d_w · d_a · (exact integer sum), accumulated in block order. The
// next eight rows are fetched as these are read, a block's share of them per block. Rows past the
// last whole eight take the two-rows-at-a-time loop, as does m > 1.
AVX2_F16C void fledge_q4_0_dot_q8_avx2(long m, long k, const int8_t *a_levels, const float *a_scales, const int32_t *a_sums,
                                       const uint8_t *w, long row_bytes, long rows, float *out, long ldo) {
    long blocks = k / 32, r = 0;
    if (m == 1 && blocks > 0) {
        long ahead = 8 * row_bytes, step = (ahead + blocks - 1) / blocks;
        for (; r + 8 <= rows; r += 8) {
            const uint8_t *group = w + r * row_bytes;
            __m256 acc = _mm256_setzero_ps();
            for (long b = 0; b < blocks; b++) {
                const uint8_t *block = group + b * 18;
                for (long offset = 0; offset < step; offset += 64) _mm_prefetch((const char *)(group + ahead + b * step + offset), _MM_HINT_T0);
                __m256i a = _mm256_loadu_si256((const __m256i *)(a_levels + b * 32));
#define ROW_PRODUCTS(i) _mm256_maddubs_epi16(levels_q4_0(block + (i) * row_bytes), a)
                __m256i sums = sum_rows8(ROW_PRODUCTS(0), ROW_PRODUCTS(1), ROW_PRODUCTS(2), ROW_PRODUCTS(3), ROW_PRODUCTS(4),
                                         ROW_PRODUCTS(5), ROW_PRODUCTS(6), ROW_PRODUCTS(7));
#undef ROW_PRODUCTS
                sums = _mm256_add_epi32(sums, _mm256_set1_epi32(-8 * a_sums[b]));
                __m256 scales = _mm256_mul_ps(scales8(block, row_bytes), _mm256_set1_ps(a_scales[b]));
                acc = _mm256_fmadd_ps(scales, _mm256_cvtepi32_ps(sums), acc);
            }
            _mm256_storeu_ps(out + r, acc);
        }
    }
    q4_0_dot_q8_avx2_by_pairs(m, k, a_levels, a_scales, a_sums, w + r * row_bytes, row_bytes, rows - r, out + r, ldo);
}

INT8_MATVEC(fledge_q8_0_dot_q8_avx512_vnni, AVX512_VNNI, 34, levels_q8_0, dot_q8_vnni, CORRECTION_Q8_0)
INT8_MATVEC(fledge_q4_0_dot_q8_avx512_vnni, AVX512_VNNI, 18, levels_q4_0, dot_u4_vnni, CORRECTION_Q4_0)

#else

// Not x86: never called (the CPU checks return 0).
void fledge_quantize_q8_avx2(long m, long k, const float *x, long ldx, int8_t *levels, float *scales, int32_t *sums) {}
void fledge_q8_0_dot_q8_avx2(long m, long k, const int8_t *a_levels, const float *a_scales, const int32_t *a_sums,
                             const uint8_t *w, long row_bytes, long rows, float *out, long ldo) {}
void fledge_q4_0_dot_q8_avx2(long m, long k, const int8_t *a_levels, const float *a_scales, const int32_t *a_sums,
                             const uint8_t *w, long row_bytes, long rows, float *out, long ldo) {}
void fledge_q8_0_dot_q8_avx512_vnni(long m, long k, const int8_t *a_levels, const float *a_scales, const int32_t *a_sums,
                                    const uint8_t *w, long row_bytes, long rows, float *out, long ldo) {}
void fledge_q4_0_dot_q8_avx512_vnni(long m, long k, const int8_t *a_levels, const float *a_scales, const int32_t *a_sums,
                                    const uint8_t *w, long row_bytes, long rows, float *out, long ldo) {}

#endif
