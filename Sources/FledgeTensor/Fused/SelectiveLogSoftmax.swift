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
    /// an output projection `weight [V, H]`, without ever holding `[N, V]` logits. With `softCap`,
    /// each logit z is first soft-capped to `softCap · tanh(z / softCap)` (Gemma's final-logit
    /// soft-capping), before the temperature.
    ///
    /// Logits are computed in blocks of at most `chunkElements` (rows × vocabulary entries,
    /// with running softmax statistics across the vocabulary), so the extra memory is about
    /// `chunkElements` floats plus the GEMM workspace whatever N and V are; the backward
    /// recomputes each block. Gradients flow to `hidden` and, when trainable, to `weight`.
    ///
    /// Under bfloat16 `Autocast`, as PyTorch computes `lm_head` under CPU autocast and accelerate
    /// hands the logits on as float32: `hidden` and `weight` are rounded to bfloat16, each logit
    /// (accumulated in float32) is rounded to bfloat16, and the softmax runs in float32; in the
    /// backward the gradient of each logit is rounded to bfloat16 before the products.
    public static func selectiveLogSoftmax(
        hidden: Tensor, weight: Tensor, targets: [Int], temperature: Float = 1,
        withEntropy: Bool = false, chunkElements: Int = 1 << 20, softCap: Float? = nil
    ) -> SelectedLogProbs {
        if Autocast.isBFloat16 {
            return Autocast.$precision.withValue(.float32) {
                selectiveLogSoftmax(hidden: hidden.roundedToBFloat16(), weight: weight.roundedToBFloat16(), targets: targets,
                                    temperature: temperature, withEntropy: withEntropy, chunkElements: chunkElements,
                                    softCap: softCap, bfloat16Logits: true)
            }
        }
        return selectiveLogSoftmax(hidden: hidden, weight: weight, targets: targets, temperature: temperature,
                                   withEntropy: withEntropy, chunkElements: chunkElements, softCap: softCap, bfloat16Logits: false)
    }

    private static func selectiveLogSoftmax(
        hidden: Tensor, weight: Tensor, targets: [Int], temperature: Float, withEntropy: Bool, chunkElements: Int,
        softCap: Float?, bfloat16Logits: Bool
    ) -> SelectedLogProbs {
        precondition(hidden.rank == 2 && weight.rank == 2 && hidden.shape[1] == weight.shape[1],
                     "selectiveLogSoftmax expects hidden [N, H] and weight [V, H], got \(hidden.shape) and \(weight.shape)")
        precondition(targets.count == hidden.shape[0], "selectiveLogSoftmax: \(targets.count) targets for \(hidden.shape[0]) rows")
        precondition(temperature > 0, "selectiveLogSoftmax: temperature must be > 0, got \(temperature)")
        precondition(softCap.map { $0 > 0 } ?? true, "selectiveLogSoftmax: softCap must be > 0, got \(softCap ?? 0)")
        let vocab = weight.shape[0]
        if let bad = targets.first(where: { $0 < 0 || $0 >= vocab }) {
            preconditionFailure("selectiveLogSoftmax: target id \(bad) is outside the vocabulary of \(vocab)")
        }
        let plan = LogSoftmaxChunks(rows: hidden.shape[0], vocab: vocab, chunkElements: chunkElements,
                                    temperature: temperature, withEntropy: withEntropy, softCap: softCap,
                                    bfloat16Logits: bfloat16Logits)
        let h = hidden.withUnitLastStride(), w = weight.withUnitLastStride()
        let out = Tensor(uninitializedShape: [withEntropy ? 2 : 1, plan.rows])
        let saved = Tensor(uninitializedShape: [2, plan.rows])  // log-sum-exp and entropy per row
        // With a frozen projection, E_p[W] per row gives the hidden gradient of log p(target)
        // without recomputing the logits in the backward (not through a soft cap, whose slope
        // differs per logit, nor with bfloat16 logits, whose gradients are rounded one by one).
        let expectation = GradMode.enabled && hidden.requiresGrad && !weight.requiresGrad && softCap == nil && !bfloat16Logits
            ? Tensor.zeros(hidden.shape) : nil
        SelectiveLogSoftmaxKernel.forward(plan, hidden: h, weight: w, targets: targets, out: out, saved: saved, expectation: expectation)
        let recorded = out.recording(
            [hidden, weight],
            .selectiveLogSoftmax(plan, hidden: h.detached(), weight: w.detached(), targets: targets, saved: saved,
                                 expectation: expectation))
        return SelectedLogProbs(
            logProbs: recorded.slice(axis: 0, 0..<1).reshaped([plan.rows]),
            entropy: withEntropy ? recorded.slice(axis: 0, 1..<2).reshaped([plan.rows]) : nil)
    }
}

/// How `selectiveLogSoftmax` tiles the `[N, V]` logits: blocks of `rowsPerBlock × vocabPerBlock`
/// (at most `chunkElements`), rows as the outer loop. Many rows per block keep the GEMMs
/// efficient (each block of the output projection is packed once for all of them).
struct LogSoftmaxChunks: Sendable {
    let rows: Int
    let vocab: Int
    let rowsPerBlock: Int
    let vocabPerBlock: Int
    let temperature: Float
    let withEntropy: Bool
    /// The logits' soft cap, or nil for none.
    let softCap: Float?
    /// Whether each logit and each logit's gradient is rounded to bfloat16 (autocast).
    let bfloat16Logits: Bool

    init(rows: Int, vocab: Int, chunkElements: Int, temperature: Float, withEntropy: Bool, softCap: Float? = nil,
         bfloat16Logits: Bool = false) {
        self.rows = rows
        self.vocab = vocab
        let chunk = Swift.max(chunkElements, 1)
        rowsPerBlock = Swift.max(1, Swift.min(rows, chunk / Swift.min(Swift.max(vocab, 1), 512)))
        vocabPerBlock = Swift.max(1, Swift.min(vocab, chunk / rowsPerBlock))
        self.temperature = temperature
        self.withEntropy = withEntropy
        self.softCap = softCap
        self.bfloat16Logits = bfloat16Logits
    }

    var rowBlocks: StrideTo<Int> { stride(from: 0, to: rows, by: rowsPerBlock) }
    var vocabBlocks: StrideTo<Int> { stride(from: 0, to: vocab, by: vocabPerBlock) }
    var bufferCount: Int { rowsPerBlock * vocabPerBlock }
}

enum SelectiveLogSoftmaxKernel {
    /// One block of hidden states, packed once for all vocabulary blocks.
    static func rows(_ hidden: Tensor, start: Int, count: Int) -> PackedRows {
        PackedRows(MatrixOperand(base: hidden.pointer + start * hidden.strides[0], rowStride: hidden.strides[0], columnStride: 1),
                   rows: count, depth: hidden.shape[1])
    }

    /// Calls `body(vocabStart, vocabCount, logits)` for each vocabulary block, with the block's
    /// logits `rows · weight[vocabStart...]ᵀ` (`[rows, vocabCount]`) in `buffer`, soft-capped when
    /// the plan has a cap; then `slopes` (when given) holds d(capped)/d(logit) = 1 − (capped / cap)².
    static func forEachVocabBlock(
        _ plan: LogSoftmaxChunks, rows: PackedRows, weight: Tensor, buffer: TensorStorage, slopes: TensorStorage? = nil,
        _ body: (Int, Int, UnsafeMutablePointer<Float>) -> Void
    ) {
        for vocabStart in plan.vocabBlocks {
            let vocabCount = Swift.min(plan.vocabPerBlock, plan.vocab - vocabStart)
            let weightT = MatrixOperand(base: weight.pointer + vocabStart * weight.strides[0], rowStride: 1, columnStride: weight.strides[0])
            GEMM.multiply(rows, weightT, n: vocabCount, into: buffer.pointer, ldc: vocabCount, accumulate: false)
            if plan.bfloat16Logits { roundElementsToBFloat16(buffer.pointer, buffer.pointer, count: rows.rows * vocabCount) }
            if let cap = plan.softCap {
                let z = buffer.pointer, slope = slopes?.pointer, count = rows.rows * vocabCount
                Parallel.forRanges(count, minChunk: 16_384) { range in
                    for k in range {
                        let t = Foundation.tanh(z[k] / cap)
                        z[k] = cap * t
                        slope?[k] = 1 - t * t
                    }
                }
            }
            body(vocabStart, vocabCount, buffer.pointer)
        }
    }

    /// One pass over the vocabulary with running softmax statistics per row; writes log p(target)
    /// (and the entropy), and saves each row's log-sum-exp and entropy for the backward. With
    /// `expectation`, also accumulates E_p[W] = Σ_j p_j W_j per row (rescaled as the running
    /// maximum grows, as FlashAttention accumulates P·V).
    static func forward(_ plan: LogSoftmaxChunks, hidden: Tensor, weight: Tensor, targets: [Int], out: Tensor, saved: Tensor,
                        expectation: Tensor?) {
        let buffer = TensorStorage(count: plan.bufferCount)
        let scale = 1 / plan.temperature, width = hidden.shape[1]
        var stats = [VectorMath.SoftmaxStats](repeating: .init(), count: plan.rowsPerBlock)
        var targetLogits = [Float](repeating: 0, count: plan.rowsPerBlock)
        for rowStart in plan.rowBlocks {
            let rowCount = Swift.min(plan.rowsPerBlock, plan.rows - rowStart)
            for i in 0..<rowCount { stats[i] = .init() }
            let packedRows = rows(hidden, start: rowStart, count: rowCount)
            stats.withUnsafeMutableBufferPointer { stats in
                targetLogits.withUnsafeMutableBufferPointer { targetLogits in
                    forEachVocabBlock(plan, rows: packedRows, weight: weight, buffer: buffer) { vocabStart, vocabCount, z in
                        Parallel.forRanges(rowCount, minChunk: Swift.max(1, 16_384 / vocabCount)) { range in
                            for i in range {
                                let row = z + i * vocabCount
                                let target = targets[rowStart + i] - vocabStart
                                if target >= 0 && target < vocabCount { targetLogits[i] = row[target] * scale }
                                let previousMax = stats[i].maximum
                                stats[i].add(row, vocabCount, scale: scale, weights: expectation == nil ? nil : row)
                                if let expectation, previousMax < stats[i].maximum {
                                    let rescale = Foundation.exp(previousMax - stats[i].maximum)
                                    let accumulated = expectation.pointer + (rowStart + i) * width
                                    for c in 0..<width { accumulated[c] *= rescale }
                                }
                            }
                        }
                        if let expectation {
                            let weights = MatrixOperand(base: z, rowStride: vocabCount, columnStride: 1)
                            let rows = MatrixOperand(base: weight.pointer + vocabStart * weight.strides[0], rowStride: weight.strides[0], columnStride: 1)
                            GEMM.multiply(m: rowCount, n: width, k: vocabCount, weights, rows, into: expectation.pointer + rowStart * width,
                                          ldc: width, accumulate: true)
                        }
                    }
                }
            }
            let y = out.pointer, lse = saved.pointer
            for i in 0..<rowCount {
                let row = rowStart + i
                if let expectation {
                    let accumulated = expectation.pointer + row * width, inverse = 1 / stats[i].sum
                    for c in 0..<width { accumulated[c] *= inverse }
                }
                lse[row] = stats[i].logSumExp
                lse[plan.rows + row] = stats[i].entropy
                y[row] = targetLogits[i] - lse[row]
                if plan.withEntropy { y[plan.rows + row] = lse[plan.rows + row] }
            }
        }
    }

    /// With the forward's E_p[W] and no gradient for W or the entropy, dHidden = g·(W[target] − E_p[W])/T.
    /// Otherwise recomputes each block of logits, turns it into dz (the gradient w.r.t. the
    /// logits, in place), then dHidden += dz·W and dW += dzᵀ·hidden.
    static func backward(
        _ plan: LogSoftmaxChunks, grad: Tensor, hidden: Tensor, weight: Tensor, targets: [Int], saved: Tensor,
        expectation: Tensor?, needed: [Bool]
    ) -> [Tensor?] {
        let g = grad.contiguous()
        let entropyGrads = plan.withEntropy ? UnsafeBufferPointer(start: g.pointer + plan.rows, count: plan.rows) : nil
        if let expectation, !needed[1], entropyGrads?.allSatisfy({ $0 == 0 }) ?? true {
            return [expectationBackward(plan, grad: g, weight: weight, targets: targets, expectation: expectation), nil]
        }
        let dHidden = needed[0] ? Tensor(uninitializedShape: hidden.shape) : nil
        let dWeight = needed[1] ? Tensor.zeros(weight.shape) : nil
        let buffer = TensorStorage(count: plan.bufferCount)
        let slopes = plan.softCap == nil ? nil : TensorStorage(count: plan.bufferCount)
        let width = hidden.shape[1], scale = 1 / plan.temperature
        let pg = g.pointer, lse = saved.pointer
        for rowStart in plan.rowBlocks {
            let rowCount = Swift.min(plan.rowsPerBlock, plan.rows - rowStart)
            let packedRows = rows(hidden, start: rowStart, count: rowCount)
            forEachVocabBlock(plan, rows: packedRows, weight: weight, buffer: buffer, slopes: slopes) { vocabStart, vocabCount, z in
                Parallel.forRanges(rowCount, minChunk: Swift.max(1, 16_384 / vocabCount)) { range in
                    for i in range {
                        let row = rowStart + i, values = z + i * vocabCount
                        let gradLogProb = pg[row], gradEntropy = plan.withEntropy ? pg[plan.rows + row] : 0
                        VectorMath.selectiveSoftmaxGrad(values, vocabCount, scale: scale, logSumExp: lse[row],
                                                        entropy: lse[plan.rows + row], gradLogProb: gradLogProb, gradEntropy: gradEntropy)
                        let target = targets[row] - vocabStart
                        if target >= 0 && target < vocabCount { values[target] += gradLogProb * scale }
                        if let slope = slopes?.pointer.advanced(by: i * vocabCount) {
                            for k in 0..<vocabCount { values[k] *= slope[k] }
                        }
                        if plan.bfloat16Logits { roundElementsToBFloat16(values, values, count: vocabCount) }
                    }
                }
                let dz = MatrixOperand(base: z, rowStride: vocabCount, columnStride: 1)
                if let dHidden {
                    let w = MatrixOperand(base: weight.pointer + vocabStart * weight.strides[0], rowStride: weight.strides[0], columnStride: 1)
                    GEMM.multiply(m: rowCount, n: width, k: vocabCount, dz, w, into: dHidden.pointer + rowStart * width, ldc: width,
                                  accumulate: vocabStart > 0)
                }
                if let dWeight {
                    let dzT = MatrixOperand(base: z, rowStride: 1, columnStride: vocabCount)
                    let rows = MatrixOperand(base: hidden.pointer + rowStart * hidden.strides[0], rowStride: hidden.strides[0], columnStride: 1)
                    GEMM.multiply(m: vocabCount, n: width, k: rowCount, dzT, rows, into: dWeight.pointer + vocabStart * width, ldc: width,
                                  accumulate: true)
                }
            }
        }
        return [dHidden, dWeight]
    }

    private static func expectationBackward(_ plan: LogSoftmaxChunks, grad: Tensor, weight: Tensor, targets: [Int],
                                            expectation: Tensor) -> Tensor {
        let width = expectation.shape[1]
        let dHidden = Tensor(uninitializedShape: expectation.shape)
        let pg = grad.pointer, pe = expectation.pointer, pd = dHidden.pointer
        Parallel.forRanges(plan.rows, minChunk: Swift.max(1, 16_384 / Swift.max(width, 1))) { range in
            for row in range {
                let factor = pg[row] / plan.temperature
                let target = weight.pointer + targets[row] * weight.strides[0]
                for c in 0..<width { pd[row * width + c] = factor * (target[c] - pe[row * width + c]) }
            }
        }
        return dHidden
    }
}
