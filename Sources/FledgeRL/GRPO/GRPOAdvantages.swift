/// GRPO's advantages from the rewards of a generation batch, as TRL's
/// `_generate_and_score_completions` computes them. With `multi_objective_aggregation:
/// sum_then_normalize` (the default):
///
/// - each completion's reward is the weighted sum of the functions that scored it (a function's nil
///   contributes nothing); a completion no function scored has no reward;
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
    /// One weight per reward function (`reward_weights`, 1 each when unset).
    public let weights: [Double]
    /// Completions per prompt (`num_generations`).
    public let groupSize: Int
    /// `scale_rewards` (for `sum_then_normalize`).
    public let scaleRewards: ScaleRewards
    /// `multi_objective_aggregation`.
    public let aggregation: MultiObjectiveAggregation

    /// Advantages for `functionNames.count` reward functions; throws when `rewardWeights` has
    /// another length.
    public init(functionNames: [String], rewardWeights: [Double]?, groupSize: Int, scaleRewards: ScaleRewards,
                aggregation: MultiObjectiveAggregation = .sumThenNormalize) throws(RewardError) {
        precondition(groupSize >= 1, "a group needs at least one completion")
        if let rewardWeights, rewardWeights.count != functionNames.count {
            throw RewardError(
                "reward_weights has \(rewardWeights.count) values for \(functionNames.count) reward functions "
                    + "(\(functionNames.joined(separator: ", "))); give one weight per function, in the same order")
        }
        weights = rewardWeights ?? Array(repeating: 1, count: functionNames.count)
        self.groupSize = groupSize
        self.scaleRewards = scaleRewards
        self.aggregation = aggregation
    }

    /// The advantage of each completion and the reward metrics TRL logs: `rewards/<name>/mean` and
    /// `/std` (over the completions each function scored), `reward` and `reward_std` (of the weighted
    /// sums), `frac_reward_zero_std` (the share of completions whose std is 0).
    public func compute(_ scores: RewardScores) -> (advantages: [Double], metrics: [String: Double]) {
        precondition(scores.names.count == weights.count, "\(scores.names.count) reward functions scored, \(weights.count) weights")
        precondition(scores.count % groupSize == 0, "\(scores.count) completions do not make groups of \(groupSize)")
        let rewards = weightedSums(scores)
        let (advantages, spreads) = switch aggregation {
        case .sumThenNormalize: normalizedWithinGroups(rewards)
        case .normalizeThenSum: normalizedOverTheBatch(groupNormalizedSums(scores))
        }

        var metrics: [String: Double] = [:]
        for (name, values) in zip(scores.names, scores.values) {
            metrics["rewards/\(name)/mean"] = NaNStatistics.mean(values)
            metrics["rewards/\(name)/std"] = NaNStatistics.standardDeviation(values)
        }
        metrics["reward"] = NaNStatistics.mean(rewards)
        metrics["reward_std"] = NaNStatistics.standardDeviation(rewards)
        // torch.isclose(std, 0): |std| ≤ 1e-8, never for NaN.
        let zeroSpread = spreads.filter { Swift.abs($0) <= 1e-8 }.count
        metrics["frac_reward_zero_std"] = rewards.isEmpty ? .nan : Double(zeroSpread) / Double(rewards.count)
        return (advantages, metrics)
    }

    /// `sum_then_normalize`: each reward minus its group's mean, over its group's or the batch's
    /// spread (`scale_rewards`); with the spread each completion was judged by.
    private func normalizedWithinGroups(_ rewards: [Double?]) -> (advantages: [Double], spreads: [Double]) {
        let batchSpread = rewards.count > 1 ? NaNStatistics.standardDeviation(rewards) : 0
        var advantages: [Double] = [], spreads: [Double] = []
        for group in groups(of: rewards) {
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
            groups(of: column).flatMap { group in
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
    private func normalizedOverTheBatch(_ rewards: [Double?]) -> (advantages: [Double], spreads: [Double]) {
        let mean = NaNStatistics.mean(rewards)
        let spread = rewards.count > 1 ? NaNStatistics.standardDeviation(rewards) : 0
        let advantages = rewards.map { reward in
            let advantage = ((reward ?? .nan) - mean) / (spread + 1e-4)
            return advantage.isNaN ? 0 : advantage
        }
        return (advantages, Array(repeating: spread, count: rewards.count))
    }

    /// `values` in consecutive groups of `groupSize`.
    private func groups<Value>(of values: [Value]) -> [[Value]] {
        stride(from: 0, to: values.count, by: groupSize).map { Array(values[$0..<$0 + groupSize]) }
    }

    /// Σ_f w_f · r_f over the functions that scored each completion; nil where none did.
    func weightedSums(_ scores: RewardScores) -> [Double?] {
        (0..<scores.count).map { index in
            let present = zip(weights, scores.values).compactMap { weight, column in column[index].map { weight * $0 } }
            return present.isEmpty ? nil : present.reduce(0, +)
        }
    }
}
