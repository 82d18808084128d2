import Foundation

/// Forward and backward of `scaledDotProductAttention`, one query row at a time.
///
/// Tensors are `[batch, seq, heads, headDim]` with a unit-stride last dimension; keys and
/// values may be strided views (a slice of a preallocated KV cache).
enum AttentionKernel {
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
    }

    static func forward(_ g: AttentionGeometry, q: Tensor, k: Tensor, v: Tensor, out: Tensor, logSumExp: Tensor) {
        let ql = Layout(q), kl = Layout(k), vl = Layout(v), ol = Layout(out)
        let lse = logSumExp.pointer
        let group = g.queryHeads / g.keyHeads
        Parallel.forRanges(g.batch * g.queryHeads * g.querySeq, minChunk: 4) { rows in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(g.keySeq, 1))
            defer { scores.deallocate() }
            for row in rows {
                let i = row % g.querySeq, h = (row / g.querySeq) % g.queryHeads, b = row / (g.querySeq * g.queryHeads)
                let kh = h / group
                let qRow = ql.row(b, i, h), oRow = ol.row(b, i, h)
                var peak = -Float.infinity
                let keys = g.keyRange(query: i)
                for j in keys {
                    let score = g.isPadding(batch: b, key: j) ? -Float.infinity : dotProduct(qRow, kl.row(b, j, kh), g.headDim) * g.scale
                    scores[j] = score
                    peak = Swift.max(peak, score)
                }
                oRow.initialize(repeating: 0, count: g.headDim)
                let slot = (b * g.queryHeads + h) * g.querySeq + i
                guard peak > -Float.infinity else {
                    lse[slot] = -.infinity
                    continue
                }
                var total: Float = 0
                for j in keys where scores[j] > -Float.infinity {
                    let weight = Foundation.exp(scores[j] - peak)
                    total += weight
                    let vRow = vl.row(b, j, kh)
                    for d in 0..<g.headDim { oRow[d] += weight * vRow[d] }
                }
                let inverse = 1 / total
                for d in 0..<g.headDim { oRow[d] *= inverse }
                lse[slot] = peak + Foundation.log(total)
            }
        }
    }

    /// FlashAttention-style backward: with P recomputed from the saved log-sum-exp,
    /// dV += Pᵀ·dO, dS = P ⊙ (dO·Vᵀ − rowsum(dO ⊙ O)), dQ = dS·K·scale, dK += dSᵀ·Q·scale.
    /// Work is split by (batch, key head) so that each worker owns its dK and dV rows.
    static func backward(
        _ g: AttentionGeometry, grad: Tensor, q: Tensor, k: Tensor, v: Tensor, out: Tensor, logSumExp: Tensor,
        needed: [Bool]
    ) -> [Tensor?] {
        let dOut = grad.contiguous()
        let dq = Tensor.zeros(q.shape), dk = Tensor.zeros(k.shape), dv = Tensor.zeros(v.shape)
        let ql = Layout(q), kl = Layout(k), vl = Layout(v), ol = Layout(out), gl = Layout(dOut)
        let dql = Layout(dq), dkl = Layout(dk), dvl = Layout(dv)
        let lse = logSumExp.pointer
        let group = g.queryHeads / g.keyHeads
        Parallel.forRanges(g.batch * g.keyHeads) { tasks in
            for task in tasks {
                let b = task / g.keyHeads, kh = task % g.keyHeads
                for h in kh * group..<(kh + 1) * group {
                    for i in 0..<g.querySeq {
                        let rowLSE = lse[(b * g.queryHeads + h) * g.querySeq + i]
                        guard rowLSE > -Float.infinity else { continue }
                        let qRow = ql.row(b, i, h), gRow = gl.row(b, i, h), dqRow = dql.row(b, i, h)
                        let rowDot = dotProduct(gRow, ol.row(b, i, h), g.headDim)
                        for j in g.keyRange(query: i) where !g.isPadding(batch: b, key: j) {
                            let kRow = kl.row(b, j, kh)
                            let p = Foundation.exp(dotProduct(qRow, kRow, g.headDim) * g.scale - rowLSE)
                            let dp = dotProduct(gRow, vl.row(b, j, kh), g.headDim)
                            let ds = p * (dp - rowDot) * g.scale
                            let dkRow = dkl.row(b, j, kh), dvRow = dvl.row(b, j, kh)
                            for d in 0..<g.headDim {
                                dqRow[d] += ds * kRow[d]
                                dkRow[d] += ds * qRow[d]
                                dvRow[d] += p * gRow[d]
                            }
                        }
                    }
                }
            }
        }
        return [needed[0] ? dq : nil, needed[1] ? dk : nil, needed[2] ? dv : nil]
    }
}
