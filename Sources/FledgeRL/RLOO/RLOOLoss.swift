import FledgeTensor

/// RLOO's loss, computed as TRL's `RLOOTrainer._compute_loss` does: per completion, the ratio
/// r = exp(Σ_t logp_t − Σ_t logp_old,t) of the whole sequence, loss = −min(r·A, clamp(r, 1 − ε_low,
/// 1 + ε_high)·A), averaged over the completions.
public struct RLOOLoss: Sendable {
    public let epsilonLow: Double
    public let epsilonHigh: Double

    public init(epsilonLow: Double = 0.2, epsilonHigh: Double? = nil) {
        self.epsilonLow = epsilonLow
        self.epsilonHigh = epsilonHigh ?? epsilonLow
    }

    /// The loss of a resolved config (`epsilon`, `epsilon_high`).
    public init(config: RLOOConfig) {
        self.init(epsilonLow: config.generation.epsilon, epsilonHigh: config.generation.epsilonHigh)
    }

    /// The loss of one micro-batch and TRL's metrics: `clip_ratio/low_mean`, `/low_min`,
    /// `/high_mean`, `/high_max`, `/region_mean`, and `entropy` (their mean) when `entropies` are
    /// given: every scored token's, or only those of the rows that were run when zero-signal rows
    /// were skipped.
    /// `logProbs` are the policy's per-token log-probabilities (flat, `[total]`, with autograd),
    /// `counts` tokens per completion; `oldSequenceLogProbs` come from `RLOOAdvantages.compute`.
    public func compute(logProbs: Tensor, counts: [Int], oldSequenceLogProbs: [Float], advantages: [Float],
                        entropies: [Float]? = nil) -> (loss: Tensor, metrics: [String: Double]) {
        let layout = TokenRows(counts: counts)
        precondition(oldSequenceLogProbs.count == layout.rows && advantages.count == layout.rows,
                     "\(oldSequenceLogProbs.count) old log-probs and \(advantages.count) advantages for \(layout.rows) completions")
        let sums = layout.grid(logProbs).sum(axis: 1)
        let ratio = (sums - Tensor(shape: [layout.rows], values: oldSequenceLogProbs)).exp()
        let advantage = Tensor(shape: [layout.rows], values: advantages)
        let clipped = ratio.clamp(min: Float(1 - epsilonLow), max: Float(1 + epsilonHigh))
        let loss = -Tensor.minimum(ratio * advantage, clipped * advantage).mean()

        let ratios = ratio.toArray()
        let low = zip(ratios, advantages).map { $0 < Float(1 - epsilonLow) && $1 < 0 ? 1.0 : 0 }
        let high = zip(ratios, advantages).map { $0 > Float(1 + epsilonHigh) && $1 > 0 ? 1.0 : 0 }
        let rows = Double(layout.rows)
        var metrics = [
            "clip_ratio/low_mean": low.reduce(0, +) / rows,
            "clip_ratio/low_min": low.min() ?? .nan,
            "clip_ratio/high_mean": high.reduce(0, +) / rows,
            "clip_ratio/high_max": high.max() ?? .nan,
            "clip_ratio/region_mean": zip(low, high).reduce(0) { $0 + Swift.max($1.0, $1.1) } / rows,
        ]
        if let entropies {
            metrics["entropy"] = entropies.reduce(0) { $0 + Double($1) } / Double(Swift.max(entropies.count, 1))
        }
        return (loss, metrics)
    }
}
