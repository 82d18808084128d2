/// The rewards of a generation round as GRPO and RLOO combine them (TRL's
/// `_generate_and_score_completions`): each completion's reward is the weighted sum of the functions
/// that scored it (a function's nil contributes nothing; a completion no function scored has none),
/// completions come in groups of `groupSize` (one prompt's), and the round logs TRL's reward metrics.
public struct GroupRewards: Sendable {
    /// One weight per reward function (`reward_weights`, 1 each when unset).
    public let weights: [Double]
    /// Completions per prompt (`num_generations`).
    public let groupSize: Int

    /// The rewards of `functionNames.count` reward functions; throws when `rewardWeights` has another
    /// length.
    public init(functionNames: [String], rewardWeights: [Double]?, groupSize: Int) throws(RewardError) {
        precondition(groupSize >= 1, "a group needs at least one completion")
        if let rewardWeights, rewardWeights.count != functionNames.count {
            throw RewardError(
                "reward_weights has \(rewardWeights.count) values for \(functionNames.count) reward functions "
                    + "(\(functionNames.joined(separator: ", "))); give one weight per function, in the same order")
        }
        weights = rewardWeights ?? Array(repeating: 1, count: functionNames.count)
        self.groupSize = groupSize
    }

    /// Σ_f w_f · r_f over the functions that scored each completion; nil where none did.
    public func weightedSums(_ scores: RewardScores) -> [Double?] {
        (0..<scores.count).map { index in
            let present = zip(weights, scores.values).compactMap { weight, column in column[index].map { weight * $0 } }
            return present.isEmpty ? nil : present.reduce(0, +)
        }
    }

    /// Each completion's group standard deviation of `sums` (Bessel's correction, NaN-skipping; 0 in
    /// groups of one), the spread `scale_rewards: group` divides by.
    func groupSpreads(_ sums: [Double?]) -> [Double] {
        groups(of: sums).flatMap { group in
            Array(repeating: groupSize > 1 ? NaNStatistics.standardDeviation(group) : 0, count: group.count)
        }
    }

    /// TRL's reward metrics: `rewards/<name>/mean` and `/std` (over the completions each function
    /// scored), `reward` and `reward_std` (of the weighted `sums`), and `frac_reward_zero_std`, the
    /// share of completions whose `spreads` entry (the spread each was judged by) is 0.
    func metrics(_ scores: RewardScores, sums: [Double?], spreads: [Double]) -> [String: Double] {
        var metrics: [String: Double] = [:]
        for (name, values) in zip(scores.names, scores.values) {
            metrics["rewards/\(name)/mean"] = NaNStatistics.mean(values)
            metrics["rewards/\(name)/std"] = NaNStatistics.standardDeviation(values)
        }
        metrics["reward"] = NaNStatistics.mean(sums)
        metrics["reward_std"] = NaNStatistics.standardDeviation(sums)
        // torch.isclose(std, 0): |std| ≤ 1e-8, never for NaN.
        let zeroSpread = spreads.filter { Swift.abs($0) <= 1e-8 }.count
        metrics["frac_reward_zero_std"] = sums.isEmpty ? .nan : Double(zeroSpread) / Double(sums.count)
        return metrics
    }

    /// `values` in consecutive groups of `groupSize`.
    func groups<Value>(of values: [Value]) -> [[Value]] {
        stride(from: 0, to: values.count, by: groupSize).map { Array(values[$0..<$0 + groupSize]) }
    }
}
