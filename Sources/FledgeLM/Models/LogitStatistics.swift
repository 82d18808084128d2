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

/// The statistics a `sequenceLogProbs` call asked for, one value per scored position (nil for
/// those not asked for); `OutputHead.statistics` computes them.
public struct ScoredLogitStatistics: Sendable {
    public var meanLogits: [Float]?
    public var logSumSquaredProbs: [Float]?
}
