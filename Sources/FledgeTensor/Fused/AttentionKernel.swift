import Foundation

/// Forward and backward of `scaledDotProductAttention`, a block of query rows at a time.
///
/// For a block of `queryBlock` queries of one head, the scores against the keys it can see
/// are one GEMM (`Q·Kᵀ`), the softmax is taken row by row, and the output is a second GEMM
/// (`P·V`); the backward recomputes `P` from the saved log-sum-exp (FlashAttention-2's
/// recurrences) with five GEMMs. Only `queryBlock × keys` scores exist at any time per core.
/// Tensors are `[batch, seq, heads, headDim]` with a unit-stride last dimension; keys and
/// values may be strided views (a slice of a preallocated KV cache).
enum AttentionKernel {
    static let queryBlock = 72  // a multiple of the GEMM micro-kernel's 6 rows

    /// A `[batch, seq, heads, headDim]` tensor's rows for one (batch, head) as a GEMM operand.
    struct Layout {
        let base: UnsafeMutablePointer<Float>
        let batchStride, seqStride, headStride: Int
        init(_ tensor: Tensor) {
            base = tensor.pointer
            batchStride = tensor.strides[0]
            seqStride = tensor.strides[1]
            headStride = tensor.strides[2]
        }
        @inline(__always) func row(_ b: Int, _ t: Int, _ h: Int) -> UnsafeMutablePointer<Float> {
            base + b * batchStride + t * seqStride + h * headStride
        }
        /// Rows `t...` of head `h` as the matrix `[rows, headDim]`.
        func rows(_ b: Int, from t: Int, _ h: Int) -> MatrixOperand {
            MatrixOperand(base: row(b, t, h), rowStride: seqStride, columnStride: 1)
        }
        /// The same rows, transposed: `[headDim, rows]`.
        func columns(_ b: Int, from t: Int, _ h: Int) -> MatrixOperand {
            MatrixOperand(base: row(b, t, h), rowStride: 1, columnStride: seqStride)
        }
    }

    /// The keys a block of queries may see, before per-row masking, starting where `keys`
    /// can start a product.
    static func keySpan(_ g: AttentionGeometry, queries: Range<Int>, keys: PackedOperand) -> Range<Int> {
        let start = keys.alignedStart(g.keyRange(query: queries.lowerBound).lowerBound)
        return start..<Swift.max(start, g.keyRange(query: queries.upperBound - 1).upperBound)
    }

    /// Kᵀ of one (batch, key head) as a packed operand `[headDim, keySeq]`.
    static func packedTranspose(_ layout: Layout, _ g: AttentionGeometry, batch b: Int, head kh: Int) -> PackedOperand {
        PackedOperand(layout.columns(b, from: 0, kh), depth: g.headDim, columns: g.keySeq,
                      rowsToCome: g.querySeq * (g.queryHeads / g.keyHeads))
    }

    /// With a soft cap, turns `count` raw scores r into r' with r' · scale = cap · tanh(r · scale / cap),
    /// and writes d(r' · scale)/d(r · scale) = 1 − tanh² to `slopes` when given.
    @inline(__always)
    static func softCap(_ g: AttentionGeometry, _ scores: UnsafeMutablePointer<Float>, count: Int,
                        slopes: UnsafeMutablePointer<Float>? = nil) {
        guard let cap = g.softCap else { return }
        let inward = g.scale / cap, outward = cap / g.scale
        for k in 0..<count {
            let t = Foundation.tanh(scores[k] * inward)
            scores[k] = outward * t
            slopes?[k] = 1 - t * t
        }
    }

    /// Sets the scores of keys row `i` may not see to −inf; returns whether any key is left.
    @inline(__always)
    static func maskRow(_ g: AttentionGeometry, _ scores: UnsafeMutablePointer<Float>, batch b: Int, query i: Int, span: Range<Int>) -> Bool {
        let visible = g.keyRange(query: i).clamped(to: span)
        let start = span.lowerBound
        (scores).initialize(repeating: -.infinity, count: visible.lowerBound - start)
        (scores + visible.upperBound - start).initialize(repeating: -.infinity, count: span.upperBound - visible.upperBound)
        guard let padding = g.mask.keyPadding else { return !visible.isEmpty }
        var any = false
        let rowStart = b * g.keySeq
        for j in visible {
            if padding[rowStart + j] == 0 { scores[j - start] = -.infinity } else { any = true }
        }
        return any
    }

    static func forward(_ g: AttentionGeometry, q: Tensor, k: Tensor, v: Tensor, out: Tensor, logSumExp: Tensor) {
        let ql = Layout(q), kl = Layout(k), vl = Layout(v), ol = Layout(out)
        let lse = logSumExp.pointer
        let group = g.queryHeads / g.keyHeads, blocks = (g.querySeq + queryBlock - 1) / queryBlock
        Parallel.forRanges(g.batch * g.keyHeads) { tasks in
            let scores = TensorStorage(count: queryBlock * (Swift.max(g.keySeq, 1) + 16))
            for task in tasks {
                let b = task / g.keyHeads, kh = task % g.keyHeads
                let keys = packedTranspose(kl, g, batch: b, head: kh)
                if g.querySeq == 1 {
                    decodingStep(g, keys: keys, q: ql, v: vl, out: ol, logSumExp: lse, batch: b, keyHead: kh, scores: scores.pointer)
                    continue
                }
                for h in kh * group..<(kh + 1) * group {
                    for block in 0..<blocks {
                        let queries = block * queryBlock..<Swift.min(g.querySeq, (block + 1) * queryBlock)
                        let span = keySpan(g, queries: queries, keys: keys)
                        let width = span.count, s = scores.pointer
                        keys.multiply(m: queries.count, ql.rows(b, from: queries.lowerBound, h), columns: span, into: s, ldc: width)
                        softCap(g, s, count: queries.count * width)
                        for (r, i) in queries.enumerated() {
                            softmaxRow(g, s + r * width, width: width, batch: b, query: i, span: span,
                                       logSumExp: lse + (b * g.queryHeads + h) * g.querySeq + i)
                            if g.bfloat16Weights { roundWeightsToBFloat16(s + r * width, width: width) }
                        }
                        GEMM.multiply(m: queries.count, n: g.headDim, k: width, MatrixOperand(base: s, rowStride: width, columnStride: 1),
                                      vl.rows(b, from: span.lowerBound, kh), into: ol.row(b, queries.lowerBound, h), ldc: ol.seqStride,
                                      accumulate: false, parallel: false)
                    }
                }
            }
        }
    }

    /// One query position (a decoding step) of batch row `b`: the query heads that share key head
    /// `kh` are the rows of one `Q·Kᵀ` and one `P·V`, so the cached keys and values are read once
    /// for the group instead of once per head (the few-row kernels take up to 4 rows for the price of
    /// one). Each head's row is the same dot products as on its own, so the result does not change.
    static func decodingStep(_ g: AttentionGeometry, keys: PackedOperand, q: Layout, v: Layout, out: Layout,
                             logSumExp: UnsafeMutablePointer<Float>, batch b: Int, keyHead kh: Int,
                             scores s: UnsafeMutablePointer<Float>) {
        let group = g.queryHeads / g.keyHeads, first = kh * group
        let span = keySpan(g, queries: 0..<1, keys: keys), width = span.count
        keys.multiply(m: group, MatrixOperand(base: q.row(b, 0, first), rowStride: q.headStride, columnStride: 1),
                      columns: span, into: s, ldc: width)
        softCap(g, s, count: group * width)
        for r in 0..<group {
            softmaxRow(g, s + r * width, width: width, batch: b, query: 0, span: span,
                       logSumExp: logSumExp + (b * g.queryHeads + first + r) * g.querySeq)
            if g.bfloat16Weights { roundWeightsToBFloat16(s + r * width, width: width) }
        }
        GEMM.multiply(m: group, n: g.headDim, k: width, MatrixOperand(base: s, rowStride: width, columnStride: 1),
                      v.rows(b, from: span.lowerBound, kh), into: out.row(b, 0, first), ldc: out.headStride,
                      accumulate: false, parallel: false)
    }

    /// Rounds a row of attention weights p = e / Σe (e = exp(s − max s)) as PyTorch's CPU flash
    /// attention rounds them under bfloat16 autocast: each e to bfloat16, then divided by the float32
    /// sum. e = p / max p and Σe = 1 / max p, since the largest e is 1. (PyTorch's kernel takes keys in
    /// blocks of 512 with a running maximum; beyond 512 keys its e are relative to a block's maximum.)
    @inline(__always)
    static func roundWeightsToBFloat16(_ row: UnsafeMutablePointer<Float>, width: Int) {
        var largest: Float = 0
        for j in 0..<width { largest = Swift.max(largest, row[j]) }
        guard largest > 0 else { return }
        for j in 0..<width { row[j] = (row[j] / largest).roundedToBFloat16 * largest }
    }

    /// Turns one row of raw scores into attention weights (zeros when no key is visible) and
    /// stores the row's log-sum-exp of the scaled scores.
    @inline(__always)
    static func softmaxRow(_ g: AttentionGeometry, _ row: UnsafeMutablePointer<Float>, width: Int, batch b: Int, query i: Int,
                           span: Range<Int>, logSumExp: UnsafeMutablePointer<Float>) {
        guard maskRow(g, row, batch: b, query: i, span: span) else {
            row.initialize(repeating: 0, count: width)
            logSumExp.pointee = -.infinity
            return
        }
        logSumExp.pointee = VectorMath.softmaxRow(row, width, scale: g.scale)
    }

    /// dV += Pᵀ·dO, dS = P ⊙ (dO·Vᵀ − rowsum(dO ⊙ O)), dQ = dS·K·scale, dK += dSᵀ·Q·scale, with P
    /// recomputed per block (and dS times the soft cap's slope with a cap). Work is split by (batch, key head) so each worker owns its dK, dV rows.
    static func backward(
        _ g: AttentionGeometry, grad: Tensor, q: Tensor, k: Tensor, v: Tensor, out: Tensor, logSumExp: Tensor,
        needed: [Bool]
    ) -> [Tensor?] {
        let dOut = grad.contiguous()
        let dq = Tensor(uninitializedShape: q.shape), dk = Tensor.zeros(k.shape), dv = Tensor.zeros(v.shape)
        let ql = Layout(q), kl = Layout(k), vl = Layout(v), ol = Layout(out), gl = Layout(dOut)
        let dql = Layout(dq), dkl = Layout(dk), dvl = Layout(dv)
        let lse = logSumExp.pointer
        let group = g.queryHeads / g.keyHeads, blocks = (g.querySeq + queryBlock - 1) / queryBlock
        Parallel.forRanges(g.batch * g.keyHeads) { tasks in
            let probabilities = TensorStorage(count: queryBlock * (Swift.max(g.keySeq, 1) + 16))
            let scoreGrads = TensorStorage(count: queryBlock * (Swift.max(g.keySeq, 1) + 16))
            let slopes = g.softCap == nil ? nil : TensorStorage(count: queryBlock * (Swift.max(g.keySeq, 1) + 16))
            for task in tasks {
                let b = task / g.keyHeads, kh = task % g.keyHeads
                let keys = packedTranspose(kl, g, batch: b, head: kh), values = packedTranspose(vl, g, batch: b, head: kh)
                for h in kh * group..<(kh + 1) * group {
                    for block in 0..<blocks {
                        let queries = block * queryBlock..<Swift.min(g.querySeq, (block + 1) * queryBlock)
                        let span = keySpan(g, queries: queries, keys: keys)
                        let (rows, width) = (queries.count, span.count)
                        let p = probabilities.pointer, ds = scoreGrads.pointer
                        keys.multiply(m: rows, ql.rows(b, from: queries.lowerBound, h), columns: span, into: p, ldc: width)
                        softCap(g, p, count: rows * width, slopes: slopes?.pointer)
                        values.multiply(m: rows, gl.rows(b, from: queries.lowerBound, h), columns: span, into: ds, ldc: width)
                        for (r, i) in queries.enumerated() {
                            let pRow = p + r * width, dsRow = ds + r * width
                            let rowLSE = lse[(b * g.queryHeads + h) * g.querySeq + i]
                            guard rowLSE > -.infinity, maskRow(g, pRow, batch: b, query: i, span: span) else {
                                pRow.initialize(repeating: 0, count: width)
                                dsRow.initialize(repeating: 0, count: width)
                                continue
                            }
                            VectorMath.expAffine(pRow, pRow, width, scale: g.scale, shift: -rowLSE)
                            let rowDot = dotProduct(gl.row(b, i, h), ol.row(b, i, h), g.headDim)
                            for j in 0..<width { dsRow[j] = pRow[j] * (dsRow[j] - rowDot) * g.scale }
                            if let slope = slopes?.pointer.advanced(by: r * width) {
                                for j in 0..<width { dsRow[j] *= slope[j] }
                            }
                        }
                        let pT = MatrixOperand(base: p, rowStride: 1, columnStride: width)
                        let dsMatrix = MatrixOperand(base: ds, rowStride: width, columnStride: 1)
                        let dsT = MatrixOperand(base: ds, rowStride: 1, columnStride: width)
                        GEMM.multiply(m: width, n: g.headDim, k: rows, pT, gl.rows(b, from: queries.lowerBound, h),
                                      into: dvl.row(b, span.lowerBound, kh), ldc: dvl.seqStride, accumulate: true, parallel: false)
                        GEMM.multiply(m: rows, n: g.headDim, k: width, dsMatrix, kl.rows(b, from: span.lowerBound, kh),
                                      into: dql.row(b, queries.lowerBound, h), ldc: dql.seqStride, accumulate: false, parallel: false)
                        GEMM.multiply(m: width, n: g.headDim, k: rows, dsT, ql.rows(b, from: queries.lowerBound, h),
                                      into: dkl.row(b, span.lowerBound, kh), ldc: dkl.seqStride, accumulate: true, parallel: false)
                    }
                }
            }
        }
        return [needed[0] ? dq : nil, needed[1] ? dk : nil, needed[2] ? dv : nil]
    }
}
