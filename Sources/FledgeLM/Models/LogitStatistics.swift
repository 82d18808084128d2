import FledgeTensor

/// Summaries of the logits at scored positions that preference trainers read besides the
/// log-probabilities (TRL's fused LM head outputs `mean_logits` and `log_sum_sq_probs`); computed
/// without autograd.
public struct LogitStatistics: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// The mean over the vocabulary of each position's logits (DPO's `logits/chosen` metrics).
    public static let meanLogits = LogitStatistics(rawValue: 1)
    /// log Σ_v p_v² of each position's distribution (WPO weighting).
    public static let logSumSquaredProbs = LogitStatistics(rawValue: 2)
}

/// The statistics a `sequenceLogProbs` call asked for, one value per scored position.
public struct ScoredLogitStatistics: Sendable {
    public var meanLogits: [Float]?
    public var logSumSquaredProbs: [Float]?

    /// The statistics of logits `hidden · weightᵀ / temperature` for `hidden [N, H]` and `weight [V, H]`.
    /// The mean needs no logits (it is `hidden · mean(weight) / temperature`); log Σ p² =
    /// logsumexp(2z) − 2 logsumexp(z) is computed over blocks of rows of at most `chunkElements` logits.
    init(_ wanted: LogitStatistics, hidden: Tensor, weight: Tensor, temperature: Float, chunkElements: Int = 1 << 20) {
        let rows = hidden.shape[0], width = hidden.shape[1], vocabulary = weight.shape[0]
        meanLogits = wanted.contains(.meanLogits) ? Tensor.withoutGrad {
            (hidden.matmul(weight.mean(axis: 0).reshaped([width, 1])) / temperature).toArray()
        } : nil
        logSumSquaredProbs = wanted.contains(.logSumSquaredProbs) ? Tensor.withoutGrad {
            let block = max(1, chunkElements / max(vocabulary, 1))
            return stride(from: 0, to: rows, by: block).flatMap { start in
                let logits = hidden.slice(axis: 0, start..<min(start + block, rows)).matmul(weight.transposed()) / temperature
                return ((logits * 2).logSumExp(axis: 1) - logits.logSumExp(axis: 1) * 2).toArray()
            }
        } : nil
    }
}
