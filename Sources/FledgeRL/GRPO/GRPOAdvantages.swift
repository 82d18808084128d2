/// GRPO's advantages from the rewards of a generation batch, as TRL's
/// `_generate_and_score_completions` computes them. With `multi_objective_aggregation:
/// sum_then_normalize` (the default):
///
/// - each completion's reward is the weighted sum of the functions that scored it (``GroupRewards``);
/// - groups are `groupSize` consecutive completions (one prompt's); advantage = reward − group mean,
///   divided by (std + 1e-4) where std (Bessel's correction, NaN-skipping) is the group's
///   (`scale_rewards: group`) or the whole batch's (`batch`), or not divided (`none`);
///
/// with `normalize_then_sum` (GDPO), each function's scores are first normalised within each group,
/// (r − group mean) / (group std + 1e-4), the weighted sum of those (skipping undefined ones) is the
/// reward, and the advantage is (reward − batch mean) / (batch std + 1e-4), whatever `scale_rewards` is.
/// Either way an advantage that comes out undefined (an unscored completion, a group with fewer than
/// two scored completions under scaling) is 0.
public struct GRPOAdvantages: Sendable {
    /// The weights, the groups and the reward metrics.
    public let rewards: GroupRewards
    /// `scale_rewards` (for `sum_then_normalize`).
    public let scaleRewards: ScaleRewards
    /// `multi_objective_aggregation`.
    public let aggregation: MultiObjectiveAggregation

    /// Advantages for `functionNames.count` reward functions; throws when `rewardWeights` has
    /// another length.
    public init(functionNames: [String], rewardWeights: [Double]?, groupSize: Int, scaleRewards: ScaleRewards,
                aggregation: MultiObjectiveAggregation = .sumThenNormalize) throws(RewardError) {
        rewards = try GroupRewards(functionNames: functionNames, rewardWeights: rewardWeights, groupSize: groupSize)
        self.scaleRewards = scaleRewards
        self.aggregation = aggregation
    }

    /// One weight per reward function (`reward_weights`, 1 each when unset).
    public var weights: [Double] { rewards.weights }
    /// Completions per prompt (`num_generations`).
    public var groupSize: Int { rewards.groupSize }

    /// The advantage of each completion and the reward metrics TRL logs (``GroupRewards``), with
    /// `frac_reward_zero_std` counting the completions whose advantage was divided by a zero spread.
    public func compute(_ scores: RewardScores) -> (advantages: [Double], metrics: [String: Double]) {
        precondition(scores.names.count == weights.count, "\(scores.names.count) reward functions scored, \(weights.count) weights")
        precondition(scores.count % groupSize == 0, "\(scores.count) completions do not make groups of \(groupSize)")
        let sums = rewards.weightedSums(scores)
        let (advantages, spreads) = switch aggregation {
        case .sumThenNormalize: normalizedWithinGroups(sums)
        case .normalizeThenSum: normalizedOverTheBatch(groupNormalizedSums(scores))
        }
        return (advantages, rewards.metrics(scores, sums: sums, spreads: spreads))
    }

    /// `sum_then_normalize`: each reward minus its group's mean, over its group's or the batch's
    /// spread (`scale_rewards`); with the spread each completion was judged by.
    private func normalizedWithinGroups(_ sums: [Double?]) -> (advantages: [Double], spreads: [Double]) {
        let batchSpread = sums.count > 1 ? NaNStatistics.standardDeviation(sums) : 0
        var advantages: [Double] = [], spreads: [Double] = []
        for group in rewards.groups(of: sums) {
            let mean = NaNStatistics.mean(group)
            let groupSpread = groupSize > 1 ? NaNStatistics.standardDeviation(group) : 0
            let spread = scaleRewards == .batch ? batchSpread : groupSpread
            for reward in group {
                var advantage = (reward ?? .nan) - mean
                if scaleRewards != .none { advantage /= spread + 1e-4 }
                advantages.append(advantage.isNaN ? 0 : advantage)
                spreads.append(spread)
            }
        }
        return (advantages, spreads)
    }

    /// `normalize_then_sum`'s rewards: Σ_f w_f · (r_f − group mean_f) / (group std_f + 1e-4) over the
    /// terms that are defined; nil for a completion no function scored.
    private func groupNormalizedSums(_ scores: RewardScores) -> [Double?] {
        let normalized = scores.values.map { column in
            rewards.groups(of: column).flatMap { group in
                let mean = NaNStatistics.mean(group)
                let spread = groupSize > 1 ? NaNStatistics.standardDeviation(group) : 0
                return group.map { ($0 ?? .nan) - mean }.map { $0 / (spread + 1e-4) }
            }
        }
        return (0..<scores.count).map { index in
            guard scores.values.contains(where: { $0[index] != nil }) else { return nil }
            return zip(weights, normalized).reduce(0) { sum, term in
                let value = term.0 * term.1[index]
                return value.isNaN ? sum : sum + value
            }
        }
    }

    /// `normalize_then_sum`'s advantages: (reward − batch mean) / (batch std + 1e-4).
    private func normalizedOverTheBatch(_ sums: [Double?]) -> (advantages: [Double], spreads: [Double]) {
        let mean = NaNStatistics.mean(sums)
        let spread = sums.count > 1 ? NaNStatistics.standardDeviation(sums) : 0
        let advantages = sums.map { reward in
            let advantage = ((reward ?? .nan) - mean) / (spread + 1e-4)
            return advantage.isNaN ? 0 : advantage
        }
        return (advantages, Array(repeating: spread, count: sums.count))
    }
}

extension GRPOAdvantages: AdvantageEstimator {
    func advantages(_ scores: RewardScores, of completions: [GRPORollout.Completion]?)
        -> (advantages: [Double], metrics: [String: Double]) {
        compute(scores)
    }
}
