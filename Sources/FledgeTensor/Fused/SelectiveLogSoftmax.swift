import Foundation

/// Log-probabilities of chosen tokens (and optionally the entropy) from final hidden states.
public struct SelectedLogProbs {
    /// `log p(target)` per row, `[rows]`.
    public let logProbs: Tensor
    /// The entropy of each row's distribution, `[rows]`, when requested.
    public let entropy: Tensor?
}

extension Tensor {
    /// `log softmax(hidden · weightᵀ / temperature)[row, targets[row]]` for `hidden [N, H]` and
    /// an output projection `weight [V, H]`, without ever holding `[N, V]` logits.
    ///
    /// Logits are computed `chunkElements / V` rows at a time (at least one row), so the extra
    /// memory is about `chunkElements` floats whatever N and V are; the backward recomputes
    /// each chunk. Gradients flow to `hidden` and, when trainable, to `weight`.
    public static func selectiveLogSoftmax(
        hidden: Tensor, weight: Tensor, targets: [Int], temperature: Float = 1,
        withEntropy: Bool = false, chunkElements: Int = 1 << 20
    ) -> SelectedLogProbs {
        precondition(hidden.rank == 2 && weight.rank == 2 && hidden.shape[1] == weight.shape[1],
                     "selectiveLogSoftmax expects hidden [N, H] and weight [V, H], got \(hidden.shape) and \(weight.shape)")
        precondition(targets.count == hidden.shape[0], "selectiveLogSoftmax: \(targets.count) targets for \(hidden.shape[0]) rows")
        precondition(temperature > 0, "selectiveLogSoftmax: temperature must be > 0, got \(temperature)")
        let vocab = weight.shape[0]
        if let bad = targets.first(where: { $0 < 0 || $0 >= vocab }) {
            preconditionFailure("selectiveLogSoftmax: target id \(bad) is outside the vocabulary of \(vocab)")
        }
        let plan = LogSoftmaxChunks(rows: hidden.shape[0], vocab: vocab, chunkElements: chunkElements,
                                    temperature: temperature, withEntropy: withEntropy)
        let h = hidden.withUnitLastStride(), w = weight.withUnitLastStride()
        let out = Tensor(uninitializedShape: [withEntropy ? 2 : 1, plan.rows])
        let logSumExp = Tensor(uninitializedShape: [plan.rows])
        SelectiveLogSoftmaxKernel.forward(plan, hidden: h, weight: w, targets: targets, out: out, logSumExp: logSumExp)
        let recorded = out.recording(
            [hidden, weight],
            .selectiveLogSoftmax(plan, hidden: h.detached(), weight: w.detached(), targets: targets, logSumExp: logSumExp))
        return SelectedLogProbs(
            logProbs: recorded.slice(axis: 0, 0..<1).reshaped([plan.rows]),
            entropy: withEntropy ? recorded.slice(axis: 0, 1..<2).reshaped([plan.rows]) : nil)
    }
}

/// How `selectiveLogSoftmax` walks the rows.
struct LogSoftmaxChunks: Sendable {
    let rows: Int
    let vocab: Int
    let rowsPerChunk: Int
    let temperature: Float
    let withEntropy: Bool

    init(rows: Int, vocab: Int, chunkElements: Int, temperature: Float, withEntropy: Bool) {
        self.rows = rows
        self.vocab = vocab
        rowsPerChunk = Swift.max(1, Swift.min(rows, chunkElements / Swift.max(vocab, 1)))
        self.temperature = temperature
        self.withEntropy = withEntropy
    }

    var chunks: StrideTo<Int> { stride(from: 0, to: rows, by: rowsPerChunk) }
}

enum SelectiveLogSoftmaxKernel {
    /// Fills `logits [count, V]` with (hidden[start..<start+count] · weightᵀ) / temperature.
    static func logits(_ plan: LogSoftmaxChunks, hidden: Tensor, weight: Tensor, start: Int, count: Int,
                       into logits: UnsafeMutablePointer<Float>) {
        let rows = MatrixOperand(base: hidden.pointer + start * hidden.strides[0], rowStride: hidden.strides[0], columnStride: 1)
        let weightT = MatrixOperand(base: weight.pointer, rowStride: 1, columnStride: weight.strides[0])
        GEMM.multiply(m: count, n: plan.vocab, k: hidden.shape[1], rows, weightT, into: logits, ldc: plan.vocab, accumulate: false)
        let inverse = 1 / plan.temperature
        for index in 0..<count * plan.vocab { logits[index] *= inverse }
    }

    static func forward(_ plan: LogSoftmaxChunks, hidden: Tensor, weight: Tensor, targets: [Int], out: Tensor, logSumExp: Tensor) {
        let buffer = TensorStorage(count: plan.rowsPerChunk * plan.vocab)
        let vocab = plan.vocab
        for start in plan.chunks {
            let count = Swift.min(plan.rowsPerChunk, plan.rows - start)
            logits(plan, hidden: hidden, weight: weight, start: start, count: count, into: buffer.pointer)
            let z = buffer.pointer, y = out.pointer, lse = logSumExp.pointer
            Parallel.forRanges(count, minChunk: Swift.max(1, 8192 / vocab)) { range in
                for local in range {
                    let row = start + local, zr = z + local * vocab
                    let rowLSE = ReductionKernel.logSumExp(zr, vocab, stride: 1)
                    lse[row] = rowLSE
                    y[row] = zr[targets[row]] - rowLSE
                    if plan.withEntropy {
                        var expected: Float = 0
                        for j in 0..<vocab { expected += Foundation.exp(zr[j] - rowLSE) * zr[j] }
                        y[plan.rows + row] = rowLSE - expected
                    }
                }
            }
        }
    }

    /// Recomputes each chunk's logits, turns them into dz (the gradient w.r.t. the scaled
    /// logits, in place), then dHidden = dz·W/T and dW += dzᵀ·hidden/T.
    static func backward(
        _ plan: LogSoftmaxChunks, grad: Tensor, hidden: Tensor, weight: Tensor, targets: [Int],
        logSumExp: Tensor, needed: [Bool]
    ) -> [Tensor?] {
        let g = grad.contiguous()
        let dHidden = needed[0] ? Tensor(uninitializedShape: hidden.shape) : nil
        let dWeight = needed[1] ? Tensor.zeros(weight.shape) : nil
        let buffer = TensorStorage(count: plan.rowsPerChunk * plan.vocab)
        let vocab = plan.vocab, width = hidden.shape[1]
        for start in plan.chunks {
            let count = Swift.min(plan.rowsPerChunk, plan.rows - start)
            logits(plan, hidden: hidden, weight: weight, start: start, count: count, into: buffer.pointer)
            let z = buffer.pointer, pg = g.pointer, lse = logSumExp.pointer
            let inverseT = 1 / plan.temperature
            Parallel.forRanges(count, minChunk: Swift.max(1, 8192 / vocab)) { range in
                for local in range {
                    let row = start + local, zr = z + local * vocab
                    let gLogP = pg[row], gEntropy = plan.withEntropy ? pg[plan.rows + row] : 0
                    var entropy: Float = 0
                    if gEntropy != 0 {
                        for j in 0..<vocab { entropy -= Foundation.exp(zr[j] - lse[row]) * (zr[j] - lse[row]) }
                    }
                    for j in 0..<vocab {
                        let logP = zr[j] - lse[row], p = Foundation.exp(logP)
                        // d logp(t)/dz_j = δ_jt − p_j;  d H/dz_j = −p_j (log p_j + H)
                        zr[j] = (-gLogP * p - gEntropy * p * (logP + entropy)) * inverseT
                    }
                    zr[targets[row]] += gLogP * inverseT
                }
            }
            let dz = MatrixOperand(base: z, rowStride: vocab, columnStride: 1)
            if let dHidden {
                let w = MatrixOperand(base: weight.pointer, rowStride: weight.strides[0], columnStride: 1)
                GEMM.multiply(m: count, n: width, k: vocab, dz, w, into: dHidden.pointer + start * width, ldc: width, accumulate: false)
            }
            if let dWeight {
                let dzT = MatrixOperand(base: z, rowStride: 1, columnStride: vocab)
                let rows = MatrixOperand(base: hidden.pointer + start * hidden.strides[0], rowStride: hidden.strides[0], columnStride: 1)
                GEMM.multiply(m: vocab, n: width, k: count, dzT, rows, into: dWeight.pointer, ldc: width, accumulate: true)
            }
        }
        return [dHidden, dWeight]
    }
}
