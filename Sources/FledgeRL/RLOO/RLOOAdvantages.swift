/// RLOO's advantages from the rewards of a generation batch, as TRL's
/// `RLOOTrainer._generate_and_score_completions` computes them:
///
/// 1. rewards clamped to `reward_clip_range`;
/// 2. with `beta` ≠ 0, minus β · the sequence's KL to the reference, Σ_t (logp_old − logp_ref)
///    (first-order, so it can be negative);
/// 3. baseline = the mean reward of the other scored completions of the group (leave-one-out),
///    advantage = reward − baseline;
/// 4. with `normalize_advantages`, (A − mean) / (std + 1e-4) over the batch;
/// 5. an advantage that comes out undefined (an unscored completion, a group with one scored
///    completion) is 0.
public struct RLOOAdvantages: Sendable {
    /// Completions per prompt (`num_generations`).
    public let groupSize: Int
    public let beta: Double
    public let rewardClipRange: ClosedRange<Double>?
    public let normalizeAdvantages: Bool

    public init(groupSize: Int, beta: Double, rewardClipRange: ClosedRange<Double>? = nil, normalizeAdvantages: Bool = false) {
        precondition(groupSize >= 1, "a group needs at least one completion")
        self.groupSize = groupSize
        self.beta = beta
        self.rewardClipRange = rewardClipRange
        self.normalizeAdvantages = normalizeAdvantages
    }

    /// The advantages of a resolved config (its checks have made `reward_clip_range` a pair).
    public init(config: RLOOConfig) {
        let range = config.rewardClipRange.map { bounds -> ClosedRange<Double> in
            precondition(bounds.count == 2 && bounds[0] <= bounds[1], "reward_clip_range must be [min, max], got \(bounds)")
            return bounds[0]...bounds[1]
        }
        self.init(groupSize: config.generation.numGenerations, beta: config.generation.beta, rewardClipRange: range,
                  normalizeAdvantages: config.normalizeAdvantages)
    }

    /// The advantage of each completion, each completion's summed log-probability under the
    /// sampling policy (the loss's old log-probability), and the metrics `frac_reward_zero_std` (the
    /// share of groups whose rewards, after clipping and the KL penalty, have zero spread) and `kl`
    /// (mean per token, when beta ≠ 0). `rewards` are the weighted reward sums, nil for a completion no function scored;
    /// per-token log-probabilities are flat, `counts` tokens per completion.
    public func compute(rewards: [Double?], oldLogProbs: [Float], referenceLogProbs: [Float]?, counts: [Int])
        -> (advantages: [Float], oldSequenceLogProbs: [Float], metrics: [String: Double]) {
        precondition(rewards.count == counts.count, "\(rewards.count) rewards for \(counts.count) completions")
        precondition(rewards.count % groupSize == 0, "\(rewards.count) completions do not make groups of \(groupSize)")
        precondition(oldLogProbs.count == counts.reduce(0, +), "\(oldLogProbs.count) log-probs for \(counts.reduce(0, +)) tokens")
        let oldSums = Self.sequenceSums(oldLogProbs.map(Double.init), counts: counts)
        var rewards = rewards.map { $0.map(clipped) }
        var metrics: [String: Double] = [:]
        if beta != 0 {
            guard let referenceLogProbs, referenceLogProbs.count == oldLogProbs.count else {
                preconditionFailure("beta = \(beta) needs the reference policy's log-probability of every completion token")
            }
            let kl = Self.sequenceSums(zip(oldLogProbs, referenceLogProbs).map { Double($0) - Double($1) }, counts: counts)
            rewards = zip(rewards, kl).map { reward, kl in reward.map { $0 - beta * kl } }
            metrics["kl"] = kl.reduce(0, +) / Double(Swift.max(counts.reduce(0, +), 1))
        }

        var advantages: [Double?] = [], zeroSpreadGroups = 0
        for start in stride(from: 0, to: rewards.count, by: groupSize) {
            let group = rewards[start..<(start + groupSize)]
            // torch.isclose(std, 0): |std| ≤ 1e-8, never for NaN.
            if groupSize > 1, Swift.abs(NaNStatistics.standardDeviation(Array(group))) <= 1e-8 { zeroSpreadGroups += 1 }
            let scored = group.compactMap { $0 }
            let total = scored.reduce(0, +)
            for reward in group {
                // (Σ others) / (scored − 1); a lone scored completion gets 0/0, undefined as in TRL.
                advantages.append(groupSize > 1 ? reward.map { $0 - (total - $0) / Double(scored.count - 1) } : 0)
            }
        }
        metrics["frac_reward_zero_std"] = Double(zeroSpreadGroups) / Double(Swift.max(rewards.count / groupSize, 1))
        advantages = advantages.map { $0?.isNaN == true ? nil : $0 }
        if normalizeAdvantages {
            let mean = NaNStatistics.mean(advantages), spread = NaNStatistics.standardDeviation(advantages)
            advantages = advantages.map { $0.map { ($0 - mean) / (spread + 1e-4) } }
        }
        let defined = advantages.map { value -> Float in value.map { $0.isNaN ? 0 : Float($0) } ?? 0 }
        return (defined, oldSums.map(Float.init), metrics)
    }

    /// `reward` clamped to `reward_clip_range`, when set.
    private func clipped(_ reward: Double) -> Double {
        guard let range = rewardClipRange else { return reward }
        return Swift.min(Swift.max(reward, range.lowerBound), range.upperBound)
    }

    /// Σ of each completion's tokens.
    static func sequenceSums(_ values: [Double], counts: [Int]) -> [Double] {
        var sums: [Double] = [], offset = 0
        for count in counts {
            sums.append(values[offset..<(offset + count)].reduce(0, +))
            offset += count
        }
        return sums
    }
}
