import Foundation

/// The per-position divergence between a student's and a teacher's next-token distributions, and
/// the student's entropy.
public struct GeneralizedJSDResult {
    /// The divergence of each position, `[rows]`, with autograd to the student.
    public let divergence: Tensor
    /// The entropy (in nats) of each position's student distribution at the temperature, without autograd.
    public let entropy: [Float]
}

extension Tensor {
    /// The generalized Jensen–Shannon divergence of TRL's `DistillationTrainer` between the student's
    /// distribution p_s = softmax(cap_s(studentHidden · studentWeightᵀ) / T) and the teacher's p_t
    /// (the same from `teacherHidden` and `teacherWeight`), per row, without ever holding the
    /// `[N, V]` logits of either model:
    ///
    /// - `beta` = 0: the forward KL(p_t ‖ p_s) = Σ p_t (log p_t − log p_s);
    /// - `beta` = 1: the reverse KL(p_s ‖ p_t) = Σ p_s (log p_s − log p_t);
    /// - otherwise, with the mixture m = (1 − β) p_s + β p_t: β KL(p_t ‖ m) + (1 − β) KL(p_s ‖ m).
    ///
    /// `cap` is a soft cap (`cap · tanh(z / cap)`, Gemma's final-logit soft-capping) when given. Rows
    /// are taken in blocks of at most `chunkElements` logits per model (at least one row). Gradients
    /// flow to `studentHidden` and, when trainable, `studentWeight`; the teacher is a constant. The
    /// hidden widths may differ (a wider teacher); the vocabularies must match.
    ///
    /// With a frozen student head (LoRA, tied embeddings) the loss's only gradient is
    /// d(studentHidden)_row = g_row · J_row with J_row = Σ_v slope_row,v · W_s[v] (the slope with
    /// respect to the raw logits, temperature and cap folded in): the forward computes J per block
    /// (``GeneralizedJSDKernel``: both models' logits, one fused pass per row, one GEMM into `[rows, H]`)
    /// and keeps only J and the per-row values, so the backward is a scaling, with no recomputation:
    /// 3 output-projection GEMMs per block instead of 5. With a trainable head (d(W_s) needs every
    /// row's slope times its own upstream gradient, which does not factor through J) or under
    /// bfloat16 `Autocast`, each block is a checkpointed segment (``checkpointed(inputs:parameters:body:)``)
    /// that keeps only the per-row results and is recomputed one block at a time in the backward.
    public static func generalizedJSD(
        studentHidden: Tensor, studentWeight: Tensor, studentSoftCap: Float? = nil,
        teacherHidden: Tensor, teacherWeight: Tensor, teacherSoftCap: Float? = nil,
        beta: Float, temperature: Float = 1, chunkElements: Int = 1 << 20
    ) -> GeneralizedJSDResult {
        precondition(studentHidden.rank == 2 && studentWeight.rank == 2 && studentHidden.shape[1] == studentWeight.shape[1],
                     "generalizedJSD expects student hidden [N, H] and weight [V, H], got \(studentHidden.shape) and \(studentWeight.shape)")
        precondition(teacherHidden.rank == 2 && teacherWeight.rank == 2 && teacherHidden.shape[1] == teacherWeight.shape[1],
                     "generalizedJSD expects teacher hidden [N, H] and weight [V, H], got \(teacherHidden.shape) and \(teacherWeight.shape)")
        precondition(studentHidden.shape[0] == teacherHidden.shape[0],
                     "generalizedJSD: \(studentHidden.shape[0]) student rows for \(teacherHidden.shape[0]) teacher rows")
        precondition(studentWeight.shape[0] == teacherWeight.shape[0],
                     "generalizedJSD: the student's vocabulary of \(studentWeight.shape[0]) is not the teacher's \(teacherWeight.shape[0])")
        precondition((0...1).contains(beta), "generalizedJSD: beta must be in [0, 1], got \(beta)")
        precondition(temperature > 0, "generalizedJSD: temperature must be > 0, got \(temperature)")
        let rows = studentHidden.shape[0], vocab = studentWeight.shape[0]
        let rowsPerBlock = Swift.max(1, chunkElements / Swift.max(vocab, 1))
        if !(GradMode.isEnabled && studentWeight.requiresGrad) && !Autocast.isBFloat16 {
            let settings = GeneralizedJSDKernel.Settings(beta: beta, temperature: temperature, studentSoftCap: studentSoftCap,
                                                         teacherSoftCap: teacherSoftCap)
            let hidden = studentHidden.withUnitLastStride()
            let divergence = Tensor(uninitializedShape: [rows])
            let jacobian = GradMode.isEnabled && studentHidden.requiresGrad ? Tensor(uninitializedShape: hidden.shape) : nil
            let entropy = GeneralizedJSDKernel.forward(
                settings, studentHidden: hidden.detached(), studentWeight: studentWeight.detached().withUnitLastStride(),
                teacherHidden: teacherHidden.detached().withUnitLastStride(),
                teacherWeight: teacherWeight.detached().withUnitLastStride(),
                rowsPerBlock: rowsPerBlock, divergence: divergence, jacobian: jacobian)
            // `recording` evaluates the rule only when studentHidden requires grad, which is when J was computed.
            return GeneralizedJSDResult(divergence: divergence.recording([studentHidden], .scaledRows(jacobian!)), entropy: entropy)
        }
        var divergences: [Tensor] = [], entropy: [Float] = []
        entropy.reserveCapacity(rows)
        let teacher = teacherHidden.detached(), teacherProjection = teacherWeight.detached()
        for start in stride(from: 0, to: rows, by: rowsPerBlock) {
            let range = start..<Swift.min(start + rowsPerBlock, rows)
            let teacherBlock = teacher.slice(axis: 0, range)
            let block = checkpointed(inputs: [studentHidden.slice(axis: 0, range)], parameters: [studentWeight]) { inputs in
                let logits = cappedLogits(inputs[0], studentWeight, cap: studentSoftCap)
                let (perRow, slope, entropy) = withoutGrad {
                    let student = (logits.detached() / temperature).logSoftmax(axis: 1)
                    let target = (cappedLogits(teacherBlock, teacherProjection, cap: teacherSoftCap) / temperature).logSoftmax(axis: 1)
                    let terms = divergence(student: student, teacher: target, beta: beta)
                    return (terms.value, terms.slope / temperature, -(student.exp() * student).sum(axis: 1, keepDims: true))
                }
                // The value of the divergence, with the gradient slope · d(logits): the surrogate's extra term is exactly 0.
                let linear = (slope * logits).sum(axis: 1)
                let surrogate = perRow + (linear - linear.detached())
                return concat([surrogate.reshaped([range.count, 1]), entropy], axis: 1)
            }
            divergences.append(block.slice(axis: 1, 0..<1).reshaped([range.count]))
            entropy += block.slice(axis: 1, 1..<2).detached().toArray()
        }
        guard divergences.count > 1 else { return GeneralizedJSDResult(divergence: divergences.first ?? zeros([0]), entropy: entropy) }
        return GeneralizedJSDResult(divergence: concat(divergences, axis: 0), entropy: entropy)
    }

    /// cap(hidden · weightᵀ), `[rows, V]`.
    private static func cappedLogits(_ hidden: Tensor, _ weight: Tensor, cap: Float?) -> Tensor {
        let logits = hidden.matmul(weight.transposed())
        guard let cap else { return logits }
        return (logits / cap).tanh() * cap
    }

    /// The per-row divergence of log-probabilities `[rows, V]` at the temperature (see ``generalizedJSD``)
    /// and its gradient with respect to the student's tempered logits: p_s − p_t for the forward KL,
    /// p_s (log p_s − log p_t − KL) for the reverse KL, and for the generalized JSD (1 − β) p_s (r − Σ p_s r)
    /// with r = log p_s − log m, as TRL's chunked kernel writes them.
    ///
    /// For the JSD, r and the teacher's t = log p_t − log m are taken without their constant parts
    /// (−log(1 − β) and −log β, which cancel in the gradient and add the binary entropy H(β) to the
    /// value): r − (−log(1 − β)) = log σ(log p_s − log p_t − k) and t − (−log β) = log σ(log p_t − log p_s + k)
    /// with k = log(β / (1 − β)). Where one model dominates a token these are small and exact, whereas
    /// r − Σ p_s r in full cancels to a few float32 ulps of log 2 once the divergence saturates.
    private static func divergence(student: Tensor, teacher: Tensor, beta: Float) -> (value: Tensor, slope: Tensor) {
        let studentProbabilities = student.exp()
        if beta == 0 {
            let teacherProbabilities = teacher.exp()
            return ((teacherProbabilities * (teacher - student)).sum(axis: 1), studentProbabilities - teacherProbabilities)
        }
        let gap = student - teacher
        if beta == 1 {
            let kl = (studentProbabilities * gap).sum(axis: 1, keepDims: true)
            return (kl.reshaped([kl.shape[0]]), studentProbabilities * (gap - kl))
        }
        let k = Foundation.log(beta / (1 - beta))
        let studentShare = (gap - k).logSigmoid(), teacherShare = (k - gap).logSigmoid()
        let studentTerm = (studentProbabilities * studentShare).sum(axis: 1, keepDims: true)
        let teacherTerm = (teacher.exp() * teacherShare).sum(axis: 1)
        let binaryEntropy = -beta * Foundation.log(beta) - (1 - beta) * Foundation.log(1 - beta)
        let value = teacherTerm * beta + studentTerm.reshaped([studentTerm.shape[0]]) * (1 - beta) + binaryEntropy
        return (value, studentProbabilities * (studentShare - studentTerm) * (1 - beta))
    }
}
