/// GRPO's advantages from the rewards of a generation batch, as TRL's
/// `_generate_and_score_completions` computes them (`multi_objective_aggregation: sum_then_normalize`):
///
/// - each completion's reward is the weighted sum of the functions that scored it (a function's nil
///   contributes nothing); a completion no function scored has no reward;
/// - groups are `groupSize` consecutive completions (one prompt's); advantage = reward − group mean,
///   divided by (std + 1e-4) where std (Bessel's correction, NaN-skipping) is the group's
///   (`scale_rewards: group`) or the whole batch's (`batch`), or not divided (`none`);
/// - an advantage that comes out undefined (an unscored completion, a group with fewer than two
///   scored completions under scaling) is 0.
public struct GRPOAdvantages: Sendable {
    /// One weight per reward function (`reward_weights`, 1 each when unset).
    public let weights: [Double]
    /// Completions per prompt (`num_generations`).
    public let groupSize: Int
    /// `scale_rewards`.
    public let scaleRewards: ScaleRewards

    /// Advantages for `functionNames.count` reward functions; throws when `rewardWeights` has
    /// another length.
    public init(functionNames: [String], rewardWeights: [Double]?, groupSize: Int, scaleRewards: ScaleRewards) throws(RewardError) {
        precondition(groupSize >= 1, "a group needs at least one completion")
        if let rewardWeights, rewardWeights.count != functionNames.count {
            throw RewardError(
                "reward_weights has \(rewardWeights.count) values for \(functionNames.count) reward functions "
                    + "(\(functionNames.joined(separator: ", "))); give one weight per function, in the same order")
        }
        weights = rewardWeights ?? Array(repeating: 1, count: functionNames.count)
        self.groupSize = groupSize
        self.scaleRewards = scaleRewards
    }

    /// The advantage of each completion and the reward metrics TRL logs: `rewards/<name>/mean` and
    /// `/std` (over the completions each function scored), `reward` and `reward_std` (of the weighted
    /// sums), `frac_reward_zero_std` (the share of completions whose std is 0).
    public func compute(_ scores: RewardScores) -> (advantages: [Double], metrics: [String: Double]) {
        precondition(scores.names.count == weights.count, "\(scores.names.count) reward functions scored, \(weights.count) weights")
        precondition(scores.count % groupSize == 0, "\(scores.count) completions do not make groups of \(groupSize)")
        let rewards = weightedSums(scores)
        let groups = stride(from: 0, to: rewards.count, by: groupSize).map { Array(rewards[$0..<$0 + groupSize]) }
        let batchSpread = rewards.count > 1 ? NaNStatistics.standardDeviation(rewards) : 0
        var advantages: [Double] = [], spreads: [Double] = []
        for group in groups {
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

    /// Σ_f w_f · r_f over the functions that scored each completion; nil where none did.
    func weightedSums(_ scores: RewardScores) -> [Double?] {
        (0..<scores.count).map { index in
            let present = zip(weights, scores.values).compactMap { weight, column in column[index].map { weight * $0 } }
            return present.isEmpty ? nil : present.reduce(0, +)
        }
    }
}
