#include "FledgeKernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "avx2_common.h"

// Writes (or adds) 16 results of one row of C.
AVX2 static inline void store_row16(float *target, __m256 low, __m256 high, int accumulate) {
    if (accumulate) {
        low = _mm256_add_ps(low, _mm256_loadu_ps(target));
        high = _mm256_add_ps(high, _mm256_loadu_ps(target + 8));
    }
    _mm256_storeu_ps(target, low);
    _mm256_storeu_ps(target + 8, high);
}

// C[6 × 16] (+)= A tile (6 × depth) · B panel (depth × 16): twelve accumulators, two B loads
// and six broadcasts per step of depth. A's element (r, p) is at a[r * a_row + p * a_depth] for
// r < height (later rows repeat row 0, and their results are not meant to be kept); B's row p
// is the 16 floats at b + p * b_depth.
AVX2 static inline void kernel_6x16(long depth, const float *a, long a_row, long a_depth, long height,
                                    const float *b, long b_depth, float *c, long ldc, int accumulate) {
    const float *a0 = a, *a1 = a + (height > 1) * a_row, *a2 = a + (height > 2) * 2 * a_row;
    const float *a3 = a + (height > 3) * 3 * a_row, *a4 = a + (height > 4) * 4 * a_row, *a5 = a + (height > 5) * 5 * a_row;
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    for (long p = 0, offset = 0; p < depth; p++, offset += a_depth) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        __m256 x0 = _mm256_broadcast_ss(a0 + offset);
        c00 = _mm256_fmadd_ps(x0, b0, c00); c01 = _mm256_fmadd_ps(x0, b1, c01);
        __m256 x1 = _mm256_broadcast_ss(a1 + offset);
        c10 = _mm256_fmadd_ps(x1, b0, c10); c11 = _mm256_fmadd_ps(x1, b1, c11);
        __m256 x2 = _mm256_broadcast_ss(a2 + offset);
        c20 = _mm256_fmadd_ps(x2, b0, c20); c21 = _mm256_fmadd_ps(x2, b1, c21);
        __m256 x3 = _mm256_broadcast_ss(a3 + offset);
        c30 = _mm256_fmadd_ps(x3, b0, c30); c31 = _mm256_fmadd_ps(x3, b1, c31);
        __m256 x4 = _mm256_broadcast_ss(a4 + offset);
        c40 = _mm256_fmadd_ps(x4, b0, c40); c41 = _mm256_fmadd_ps(x4, b1, c41);
        __m256 x5 = _mm256_broadcast_ss(a5 + offset);
        c50 = _mm256_fmadd_ps(x5, b0, c50); c51 = _mm256_fmadd_ps(x5, b1, c51);
        b += b_depth;
    }
    __m256 rows[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
    for (int r = 0; r < 6; r++) store_row16(c + r * ldc, rows[2 * r], rows[2 * r + 1], accumulate);
}

AVX2 void fledge_gemm_panels(long rows, long columns, long depth,
                             const float *a, long a_tile, long a_row, long a_depth,
                             const float *b, long b_panel, long b_depth,
                             float *c, long ldc, int accumulate) {
    float edge[FLEDGE_GEMM_MR * FLEDGE_GEMM_NR];
    for (long j0 = 0; j0 < columns; j0 += FLEDGE_GEMM_NR) {
        long width = columns - j0 < FLEDGE_GEMM_NR ? columns - j0 : FLEDGE_GEMM_NR;
        const float *b_start = b + j0 / FLEDGE_GEMM_NR * b_panel;
        for (long i0 = 0; i0 < rows; i0 += FLEDGE_GEMM_MR) {
            long height = rows - i0 < FLEDGE_GEMM_MR ? rows - i0 : FLEDGE_GEMM_MR;
            const float *a_start = a + i0 / FLEDGE_GEMM_MR * a_tile;
            float *target = c + i0 * ldc + j0;
            if (height == FLEDGE_GEMM_MR && width == FLEDGE_GEMM_NR) {
                kernel_6x16(depth, a_start, a_row, a_depth, height, b_start, b_depth, target, ldc, accumulate);
            } else {
                kernel_6x16(depth, a_start, a_row, a_depth, height, b_start, b_depth, edge, FLEDGE_GEMM_NR, 0);
                for (long r = 0; r < height; r++)
                    for (long col = 0; col < width; col++)
                        target[r * ldc + col] = (accumulate ? target[r * ldc + col] : 0) + edge[r * FLEDGE_GEMM_NR + col];
            }
        }
    }
}

// The four sums of `sum8` at once, in the same order (each lane's result is bit for bit sum8's):
// lane q of the result is the sum of t_q.
AVX2 static inline __m128 sum8x4(__m256 t0, __m256 t1, __m256 t2, __m256 t3) {
    __m128 u0 = _mm_add_ps(_mm256_castps256_ps128(t0), _mm256_extractf128_ps(t0, 1));
    __m128 u1 = _mm_add_ps(_mm256_castps256_ps128(t1), _mm256_extractf128_ps(t1, 1));
    __m128 u2 = _mm_add_ps(_mm256_castps256_ps128(t2), _mm256_extractf128_ps(t2, 1));
    __m128 u3 = _mm_add_ps(_mm256_castps256_ps128(t3), _mm256_extractf128_ps(t3, 1));
    _MM_TRANSPOSE4_PS(u0, u1, u2, u3);
    return _mm_add_ps(_mm_add_ps(u0, u2), _mm_add_ps(u1, u3));
}

// One row of A (decoding one sequence): four rows of B at a time, one load of A and four of B per
// four fused multiply-adds (the 4 × 2 path below would repeat row 0 in all four of its rows, four
// times the arithmetic and twice the loads, which made it compute-bound on a Zen 1 core). Each
// output is accumulated exactly as that path does (one 8-lane accumulator, in order of depth, then
// `sum8` and the scalar tail), so results are the same bit for bit. The rows of B four ahead are
// fetched once per cache line.
AVX2 static void gemv_nt(long n, long k, const float *x, const float *b, long ldb, float *c, int accumulate) {
    long j = 0;
    for (; j + 4 <= n; j += 4) {
        const float *w0 = b + j * ldb, *w1 = w0 + ldb, *w2 = w1 + ldb, *w3 = w2 + ldb;
        __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
        long p = 0;
        for (; p + 8 <= k; p += 8) {
            if (!(p & 8)) {
                _mm_prefetch((const char *)(w0 + 4 * ldb + p), _MM_HINT_T0);
                _mm_prefetch((const char *)(w1 + 4 * ldb + p), _MM_HINT_T0);
                _mm_prefetch((const char *)(w2 + 4 * ldb + p), _MM_HINT_T0);
                _mm_prefetch((const char *)(w3 + 4 * ldb + p), _MM_HINT_T0);
            }
            __m256 v = _mm256_loadu_ps(x + p);
            s0 = _mm256_fmadd_ps(v, _mm256_loadu_ps(w0 + p), s0);
            s1 = _mm256_fmadd_ps(v, _mm256_loadu_ps(w1 + p), s1);
            s2 = _mm256_fmadd_ps(v, _mm256_loadu_ps(w2 + p), s2);
            s3 = _mm256_fmadd_ps(v, _mm256_loadu_ps(w3 + p), s3);
        }
        float sums[4];
        _mm_storeu_ps(sums, sum8x4(s0, s1, s2, s3));
        for (long q = 0; q < 4; q++) {
            const float *w = w0 + q * ldb;
            float sum = sums[q];
            for (long tail = p; tail < k; tail++) sum += x[tail] * w[tail];
            c[j + q] = (accumulate ? c[j + q] : 0) + sum;
        }
    }
    for (; j < n; j++) {
        const float *w = b + j * ldb;
        __m256 s = _mm256_setzero_ps();
        long p = 0;
        for (; p + 8 <= k; p += 8) s = _mm256_fmadd_ps(_mm256_loadu_ps(x + p), _mm256_loadu_ps(w + p), s);
        float sum = sum8(s);
        for (long tail = p; tail < k; tail++) sum += x[tail] * w[tail];
        c[j] = (accumulate ? c[j] : 0) + sum;
    }
}

// Dot products of R rows of A (R ≤ 4) with W consecutive rows of B (W ≤ 3) from w0: R × W
// accumulators, W + R loads per R × W fused multiply-adds (7 per 12 for 4 × 3, against the 9 per 8
// of one row of B against 8 rows of A, which left a Zen 1 core load-bound). Each output is
// accumulated as `gemv_nt` does (one 8-lane accumulator in order of depth, `sum8`, the scalar
// tail), so a row's results do not depend on the rows beside it. `prefetch`, when not null, is
// the first of the next W rows of B, fetched once per cache line (the tile after this one).
AVX2 __attribute__((always_inline)) static inline void rows_tile(int R, int W, long k, const float *const *rows, const float *w0,
                                                                 long ldb, float *c, long ldc, int accumulate,
                                                                 const float *prefetch) {
    __m256 s[4][3];
    for (int r = 0; r < R; r++)
        for (int q = 0; q < W; q++) s[r][q] = _mm256_setzero_ps();
    const float *w[3] = {w0, w0 + ldb, w0 + 2 * ldb};
    long p = 0;
    for (; p + 8 <= k; p += 8) {
        if (prefetch && !(p & 8))
            for (int q = 0; q < W; q++) _mm_prefetch((const char *)(prefetch + q * ldb + p), _MM_HINT_T0);
        __m256 v[3];
        for (int q = 0; q < W; q++) v[q] = _mm256_loadu_ps(w[q] + p);
        for (int r = 0; r < R; r++) {
            __m256 x = _mm256_loadu_ps(rows[r] + p);
            for (int q = 0; q < W; q++) s[r][q] = _mm256_fmadd_ps(x, v[q], s[r][q]);
        }
    }
    __m256 zero = _mm256_setzero_ps();
    for (int q = 0; q < W; q++) {
        float sums[4];
        _mm_storeu_ps(sums, sum8x4(s[0][q], R > 1 ? s[1][q] : zero, R > 2 ? s[2][q] : zero, R > 3 ? s[3][q] : zero));
        for (int r = 0; r < R; r++) {
            float sum = sums[r];
            for (long tail = p; tail < k; tail++) sum += rows[r][tail] * w[q][tail];
            float *target = c + r * ldc + q;
            *target = (accumulate ? *target : 0) + sum;
        }
    }
}

// The R-row tiles of one block of W rows of B.
#define ROWS_TILE_WIDTHS(R)                                                                         \
    if (width == 3) rows_tile(R, 3, k, rows, w0, ldb, target, ldc, accumulate, prefetch);        \
    else if (width == 2) rows_tile(R, 2, k, rows, w0, ldb, target, ldc, accumulate, prefetch);   \
    else rows_tile(R, 1, k, rows, w0, ldb, target, ldc, accumulate, prefetch);

// Five or more rows of A (a batch of decoding steps): blocks of 3 rows of B, each read from memory
// once and multiplied by every group of 4 rows of A while it stays in L1 (the first group
// fetches the next block); A's rows stay in L1 or L2 throughout.
AVX2 static void rows_nt(long m, long n, long k, const float *a, long lda, const float *b, long ldb,
                         float *c, long ldc, int accumulate) {
    for (long j = 0; j < n; j += 3) {
        long width = n - j < 3 ? n - j : 3;
        const float *w0 = b + j * ldb;
        const float *next = j + 3 < n ? w0 + 3 * ldb : 0;
        for (long i0 = 0; i0 < m; i0 += 4) {
            const float *rows[4];
            long height = m - i0 < 4 ? m - i0 : 4;
            for (long r = 0; r < height; r++) rows[r] = a + (i0 + r) * lda;
            const float *prefetch = i0 == 0 ? next : 0;
            float *target = c + i0 * ldc + j;
            switch (height) {
            case 4: ROWS_TILE_WIDTHS(4) break;
            case 3: ROWS_TILE_WIDTHS(3) break;
            case 2: ROWS_TILE_WIDTHS(2) break;
            default: ROWS_TILE_WIDTHS(1) break;
            }
        }
    }
}
#undef ROWS_TILE_WIDTHS

// Dot products of up to 4 rows of A with 2 rows of B at a time: 8 accumulators, 6 loads
// per 8 fused multiply-adds (with 2 to 4 rows the weight's memory traffic, not the arithmetic,
// bounds a product, and fetching 4 rows ahead keeps it streaming). One row goes through gemv_nt,
// 5 or more rows through rows_nt. Every path adds each output's terms in the same order.
AVX2 void fledge_gemm_small_nt(long m, long n, long k, const float *a, long lda, const float *b, long ldb,
                               float *c, long ldc, int accumulate) {
    if (m == 1) {
        gemv_nt(n, k, a, b, ldb, c, accumulate);
        return;
    }
    if (m > 4) {
        rows_nt(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
        return;
    }
    for (long i0 = 0; i0 < m; i0 += 4) {
        long height = m - i0 < 4 ? m - i0 : 4;
        const float *rows[4];
        for (long r = 0; r < 4; r++) rows[r] = a + (i0 + (r < height ? r : 0)) * lda;
        for (long j = 0; j < n; j += 2) {
            long pair = n - j < 2 ? 1 : 2;
            const float *w0 = b + j * ldb, *w1 = b + (j + pair - 1) * ldb;
            __m256 s[8];
            for (int r = 0; r < 8; r++) s[r] = _mm256_setzero_ps();
            long p = 0;
            for (; p + 8 <= k; p += 8) {
                // Fetch the rows of B 4 ahead (2 pairs): twice the throughput of the prefetchers alone.
                _mm_prefetch((const char *)(w0 + 4 * ldb + 2 * p), _MM_HINT_T0);
                __m256 v0 = _mm256_loadu_ps(w0 + p), v1 = _mm256_loadu_ps(w1 + p);
                for (int r = 0; r < 4; r++) {
                    __m256 x = _mm256_loadu_ps(rows[r] + p);
                    s[2 * r] = _mm256_fmadd_ps(x, v0, s[2 * r]);
                    s[2 * r + 1] = _mm256_fmadd_ps(x, v1, s[2 * r + 1]);
                }
            }
            for (long r = 0; r < height; r++) {
                for (long q = 0; q < pair; q++) {
                    const float *w = q == 0 ? w0 : w1;
                    float sum = sum8(s[2 * r + q]);
                    for (long tail = p; tail < k; tail++) sum += rows[r][tail] * w[tail];
                    float *target = c + (i0 + r) * ldc + j + q;
                    *target = (accumulate ? *target : 0) + sum;
                }
            }
        }
    }
}

AVX2 void fledge_gemm_small_nn(long m, long n, long k, const float *a, long lda, const float *b, long ldb,
                               float *c, long ldc, int accumulate) {
    long j0 = 0;
    for (; j0 + 16 <= n; j0 += 16) {
        for (long i0 = 0; i0 < m; i0 += 4) {
            long height = m - i0 < 4 ? m - i0 : 4;
            const float *a0 = a + i0 * lda;
            const float *a1 = a0 + (height > 1 ? lda : 0), *a2 = a0 + (height > 2 ? 2 * lda : 0), *a3 = a0 + (height > 3 ? 3 * lda : 0);
            __m256 s[8];
            for (int r = 0; r < 8; r++) s[r] = _mm256_setzero_ps();
            for (long p = 0; p < k; p++) {
                const float *source = b + p * ldb + j0;
                __m256 low = _mm256_loadu_ps(source), high = _mm256_loadu_ps(source + 8);
                __m256 x0 = _mm256_broadcast_ss(a0 + p), x1 = _mm256_broadcast_ss(a1 + p);
                __m256 x2 = _mm256_broadcast_ss(a2 + p), x3 = _mm256_broadcast_ss(a3 + p);
                s[0] = _mm256_fmadd_ps(x0, low, s[0]); s[1] = _mm256_fmadd_ps(x0, high, s[1]);
                s[2] = _mm256_fmadd_ps(x1, low, s[2]); s[3] = _mm256_fmadd_ps(x1, high, s[3]);
                s[4] = _mm256_fmadd_ps(x2, low, s[4]); s[5] = _mm256_fmadd_ps(x2, high, s[5]);
                s[6] = _mm256_fmadd_ps(x3, low, s[6]); s[7] = _mm256_fmadd_ps(x3, high, s[7]);
            }
            for (long r = 0; r < height; r++) store_row16(c + (i0 + r) * ldc + j0, s[2 * r], s[2 * r + 1], accumulate);
        }
    }
    for (long i = 0; i < m; i++) {
        for (long j = j0; j < n; j++) {
            float sum = 0;
            for (long p = 0; p < k; p++) sum += a[i * lda + p] * b[p * ldb + j];
            c[i * ldc + j] = (accumulate ? c[i * ldc + j] : 0) + sum;
        }
    }
}

#else

// Not x86: these are never called (fledge_cpu_has_avx2_fma() returns 0).
void fledge_gemm_panels(long rows, long columns, long depth, const float *a, long a_tile, long a_row, long a_depth,
                        const float *b, long b_panel, long b_depth, float *c, long ldc, int accumulate) {}
void fledge_gemm_small_nt(long m, long n, long k, const float *a, long lda, const float *b, long ldb,
                          float *c, long ldc, int accumulate) {}
void fledge_gemm_small_nn(long m, long n, long k, const float *a, long lda, const float *b, long ldb,
                          float *c, long ldc, int accumulate) {}

#endif
