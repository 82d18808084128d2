import Foundation

/// The fused forward of ``Tensor/generalizedJSD`` for a frozen student head: per block of rows, both
/// models' logits (two GEMMs into reused buffers), each row's normalisers, divergence, entropy and
/// slope in a few vectorised passes over the row, then J = slope · W_s (one more GEMM), the
/// Jacobian of the row's divergence with respect to the student's hidden state. Only the per-row
/// values and J (`[N, H]`) are kept, so the backward is one scaling by the upstream gradient: 3 head
/// GEMMs per step instead of the checkpointed path's 5, and no recomputation.
enum GeneralizedJSDKernel {
    /// What the divergence of one row depends on besides the logits.
    struct Settings {
        let beta: Float
        let temperature: Float
        let studentSoftCap: Float?
        let teacherSoftCap: Float?
    }

    /// Fills `divergence` (`[N]`) and returns each row's entropy; with `jacobian` (`[N, H_s]`), also
    /// writes each row's d(divergence)/d(studentHidden). Blocks hold `rowsPerBlock` rows of both models' logits.
    static func forward(
        _ settings: Settings, studentHidden: Tensor, studentWeight: Tensor, teacherHidden: Tensor, teacherWeight: Tensor,
        rowsPerBlock: Int, divergence: Tensor, jacobian: Tensor?
    ) -> [Float] {
        let rows = studentHidden.shape[0], vocab = studentWeight.shape[0], width = studentHidden.shape[1]
        let blockRows = Swift.max(1, Swift.min(rowsPerBlock, rows))
        let student = TensorStorage(count: blockRows * vocab), teacher = TensorStorage(count: blockRows * vocab)
        var entropy = [Float](repeating: 0, count: rows)
        for start in stride(from: 0, to: rows, by: blockRows) {
            let count = Swift.min(blockRows, rows - start)
            logits(studentHidden, studentWeight, start: start, count: count, cap: settings.studentSoftCap, into: student)
            logits(teacherHidden, teacherWeight, start: start, count: count, cap: settings.teacherSoftCap, into: teacher)
            entropy.withUnsafeMutableBufferPointer { entropy in
                Parallel.forRanges(count) { range in
                    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 2 * vocab)
                    defer { scratch.deallocate() }
                    for i in range {
                        let row = rowTerms(settings, student: student.pointer + i * vocab, teacher: teacher.pointer + i * vocab,
                                           vocab: vocab, scratch: scratch)
                        divergence.pointer[start + i] = row.divergence
                        entropy[start + i] = row.entropy
                    }
                }
            }
            if let jacobian {
                GEMM.multiply(m: count, n: width, k: vocab, MatrixOperand(base: student.pointer, rowStride: vocab, columnStride: 1),
                              MatrixOperand(base: studentWeight.pointer, rowStride: studentWeight.strides[0], columnStride: 1),
                              into: jacobian.pointer + start * width, ldc: width, accumulate: false)
            }
        }
        return entropy
    }

    /// cap(hidden[start..<start+count] · weightᵀ) into `buffer` (`[count, V]`), with selective
    /// log-softmax's GEMM and soft cap over the whole vocabulary at once.
    private static func logits(_ hidden: Tensor, _ weight: Tensor, start: Int, count: Int, cap: Float?, into buffer: TensorStorage) {
        let vocab = weight.shape[0]
        let plan = LogSoftmaxChunks(rows: count, vocab: vocab, chunkElements: count * vocab, temperature: 1, withEntropy: false,
                                    softCap: cap)
        let packed = SelectiveLogSoftmaxKernel.rows(hidden, start: start, count: count)
        SelectiveLogSoftmaxKernel.forEachVocabBlock(plan, rows: packed, weight: weight, buffer: buffer) { _, _, _ in }
    }

    /// One row: from the capped logits `student` and `teacher` (`vocab` each), the divergence and the
    /// student's entropy at the temperature; `student` is replaced by the gradient of the divergence
    /// with respect to the student's raw logits (the slope of ``Tensor/generalizedJSD``'s documentation,
    /// divided by the temperature and multiplied by the cap's derivative). `teacher` and `scratch`
    /// (2 · `vocab`) are overwritten. Sums are taken in double precision.
    static func rowTerms(
        _ settings: Settings, student s: UnsafeMutablePointer<Float>, teacher t: UnsafeMutablePointer<Float>, vocab n: Int,
        scratch: UnsafeMutablePointer<Float>
    ) -> (divergence: Float, entropy: Float) {
        let scale = 1 / settings.temperature, beta = settings.beta
        var studentStats = VectorMath.SoftmaxStats(), teacherStats = VectorMath.SoftmaxStats()
        studentStats.add(s, n, scale: scale)
        teacherStats.add(t, n, scale: scale)
        let studentLSE = studentStats.logSumExp, teacherLSE = teacherStats.logSumExp
        // gap = log p_s − log p_t (shifted by k for the JSD); slope ends in `extra` before the cap's derivative.
        let gap = scratch, extra = scratch + n
        let shift: Float = beta == 0 || beta == 1 ? 0 : Foundation.log(beta / (1 - beta))
        for j in 0..<n { gap[j] = (s[j] * scale - studentLSE) - (t[j] * scale - teacherLSE) - shift }
        let divergence: Float
        if beta == 0 {
            VectorMath.expAffine(t, t, n, scale: scale, shift: -teacherLSE)  // p_t
            divergence = -Float(dot(t, gap, n))
            VectorMath.expAffine(s, extra, n, scale: scale, shift: -studentLSE)  // p_s
            for j in 0..<n { extra[j] -= t[j] }
        } else if beta == 1 {
            VectorMath.expAffine(s, extra, n, scale: scale, shift: -studentLSE)  // p_s
            let kl = Float(dot(extra, gap, n))
            for j in 0..<n { extra[j] *= gap[j] - kl }
            divergence = kl
        } else {
            // log σ(d) = min(d, 0) − log(1 + exp(−|d|)) for the student's share and log σ(−d) for the teacher's.
            for j in 0..<n { extra[j] = -Swift.abs(gap[j]) }
            VectorMath.expAffine(extra, extra, n)
            for j in 0..<n { extra[j] = Foundation.log1p(extra[j]) }
            VectorMath.expAffine(t, t, n, scale: scale, shift: -teacherLSE)  // p_t
            var teacherTerm: Double = 0
            for j in 0..<n {
                teacherTerm += Double(t[j]) * Double(Swift.min(-gap[j], 0) - extra[j])
                gap[j] = Swift.min(gap[j], 0) - extra[j]
            }
            VectorMath.expAffine(s, extra, n, scale: scale, shift: -studentLSE)  // p_s
            let studentTerm = Float(dot(extra, gap, n))
            for j in 0..<n { extra[j] *= (1 - beta) * (gap[j] - studentTerm) }
            let binaryEntropy = -beta * Foundation.log(beta) - (1 - beta) * Foundation.log(1 - beta)
            divergence = Float(teacherTerm) * beta + studentTerm * (1 - beta) + binaryEntropy
        }
        if let cap = settings.studentSoftCap {
            for j in 0..<n {
                let capped = s[j] / cap
                s[j] = extra[j] * scale * (1 - capped * capped)
            }
        } else {
            for j in 0..<n { s[j] = extra[j] * scale }
        }
        return (divergence, studentStats.entropy)
    }

    /// Σ a·b in double precision.
    private static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Double {
        var total: Double = 0
        for j in 0..<n { total += Double(a[j]) * Double(b[j]) }
        return total
    }
}
