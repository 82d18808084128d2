import Foundation

/// What PPO's epochs train toward, computed from a rollout as TRL's `PPOTrainer.train` does
/// (TRL 1.12, the last release with PPO); grids are `[rows, responseLength]`, row-major:
///
/// 1. log-probabilities past each response's end set to 1 (`INVALID_LOGPROB`), values past the
///    position after it to 0;
/// 2. per-token KL to the reference, k1: logp − ref, k3: (e^{ref−logp} − 1) − (ref − logp); reward
///    −kl_coef · KL per token, plus the score at the position after the last token (at the last
///    token when the response fills the window);
/// 3. with `whiten_rewards`, rewards scaled by their std over the positions up to one past the
///    end, keeping their mean, and zero beyond;
/// 4. GAE: δ_t = r_t + γ V_{t+1} − V_t, A_t = δ_t + γλ A_{t+1}; returns = A + V; advantages
///    whitened over the response tokens and zero in the padding.
public struct PPOTargets: Sendable {
    /// The log-probability TRL puts past a response's end, so that ratios there are exactly 1.
    public static let invalidLogProb: Float = 1

    public let responseLength: Int
    public let sequenceLengths: [Int]
    /// The sampling policy's log-probabilities, `invalidLogProb` in the padding.
    public let logProbs: [Float]
    /// The value estimates, 0 past the position after each response's end.
    public let values: [Float]
    public let rewards: [Float]
    public let kl: [Float]
    public let advantages: [Float]
    public let returns: [Float]
    /// `objective/kl`, `objective/entropy`, `objective/non_score_reward`, `objective/rlhf_reward`,
    /// `objective/scores` (empty for a minibatch of rows).
    public let metrics: [String: Double]

    /// The targets of `rollout`.
    public init(_ rollout: PPORollout, settings: PPOSettings) {
        let width = rollout.responseLength
        let padding = PPOPadding(responseLength: width, sequenceLengths: rollout.sequenceLengths)
        let (mask, maskPlusOne) = (padding.mask, padding.maskPlusOne)
        let invalid = Double(Self.invalidLogProb)
        let logProbs = zip(rollout.logProbs, mask).map { $1 ? invalid : Double($0) }
        let reference = zip(rollout.referenceLogProbs, mask).map { $1 ? invalid : Double($0) }
        let values = zip(rollout.values, maskPlusOne).map { $1 ? 0 : Double($0) }

        let kl = zip(logProbs, reference).map { logProb, referenceLogProb in
            let logRatio = referenceLogProb - logProb
            return settings.klEstimator == .k1 ? -logRatio : (Foundation.exp(logRatio) - 1) - logRatio
        }
        let nonScoreReward = kl.map { -settings.klCoef * $0 }
        var rewards = nonScoreReward
        for (row, length) in rollout.sequenceLengths.enumerated() {
            let end = length + 1 < width ? length + 1 : length
            rewards[row * width + end] += Double(rollout.scores[row])
        }
        if settings.whitenRewards {
            let keep = maskPlusOne.map(!)
            rewards = zip(MaskedStatistics.whiten(rewards, mask: keep, shiftMean: false), maskPlusOne).map { $1 ? 0 : $0 }
        }

        var advantages = [Double](repeating: 0, count: rewards.count)
        for row in 0..<rollout.rows {
            var running = 0.0
            for t in stride(from: width - 1, through: 0, by: -1) {
                let index = row * width + t
                let next = t < width - 1 ? values[index + 1] : 0
                running = rewards[index] + settings.gamma * next - values[index] + settings.gamma * settings.lam * running
                advantages[index] = running
            }
        }
        let returns = zip(advantages, values).map(+)
        let whitened = zip(MaskedStatistics.whiten(advantages, mask: mask.map(!)), mask).map { $1 ? 0 : $0 }

        responseLength = width
        sequenceLengths = rollout.sequenceLengths
        self.logProbs = logProbs.map(Float.init)
        self.values = values.map(Float.init)
        self.rewards = rewards.map(Float.init)
        self.kl = kl.map(Float.init)
        self.advantages = whitened.map(Float.init)
        self.returns = returns.map(Float.init)
        metrics = Self.metrics(rollout: rollout, kl: kl, nonScoreReward: nonScoreReward, logProbs: logProbs, mask: mask)
    }

    private init(_ source: PPOTargets, rows: [Int]) {
        func pick(_ grid: [Float]) -> [Float] {
            rows.flatMap { grid[($0 * source.responseLength)..<(($0 + 1) * source.responseLength)] }
        }
        responseLength = source.responseLength
        sequenceLengths = rows.map { source.sequenceLengths[$0] }
        logProbs = pick(source.logProbs)
        values = pick(source.values)
        rewards = pick(source.rewards)
        kl = pick(source.kl)
        advantages = pick(source.advantages)
        returns = pick(source.returns)
        metrics = [:]
    }

    /// The targets of some rows (a minibatch), in the given order.
    public func rows(_ indices: [Int]) -> PPOTargets {
        precondition(indices.allSatisfy { sequenceLengths.indices.contains($0) }, "rows \(indices) outside 0..<\(sequenceLengths.count)")
        return PPOTargets(self, rows: indices)
    }

    /// Means over the responses of the summed KL, of the summed −logp over the response tokens, of
    /// the summed KL penalty; that plus the mean score; the mean score.
    private static func metrics(rollout: PPORollout, kl: [Double], nonScoreReward: [Double], logProbs: [Double],
                                mask: [Bool]) -> [String: Double] {
        let rows = Double(rollout.rows)
        let meanScore = rollout.scores.reduce(0) { $0 + Double($1) } / rows
        let meanNonScoreReward = nonScoreReward.reduce(0, +) / rows
        return [
            "objective/kl": kl.reduce(0, +) / rows,
            "objective/entropy": zip(logProbs, mask).reduce(0) { $0 + ($1.1 ? 0 : -$1.0) } / rows,
            "objective/non_score_reward": meanNonScoreReward,
            "objective/rlhf_reward": meanNonScoreReward + meanScore,
            "objective/scores": meanScore,
        ]
    }
}
