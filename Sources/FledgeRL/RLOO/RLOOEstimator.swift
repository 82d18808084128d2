/// RLOO's advantages for a generation round: the weighted reward sums (nil for a completion no
/// function scored), the sequence KL from the completions' old and reference log-probs, then
/// ``RLOOAdvantages``; the reward metrics are TRL's, as GRPO logs them.
struct RLOOEstimator: AdvantageEstimator {
    let advantages: RLOOAdvantages
    /// The reward weights and the group size, for the weighted sums and `rewards/<name>/mean` … metrics.
    let rewards: GroupRewards

    func advantages(_ scores: RewardScores, of completions: [GRPORollout.Completion]?)
        -> (advantages: [Double], metrics: [String: Double]) {
        guard let completions else {
            preconditionFailure("RLOO's advantages need the whole generation round in one process; RLOO does not split rounds")
        }
        let inLoss = completions.filter(\.inLoss)
        let sums = rewards.weightedSums(scores)
        let result = advantages.compute(
            rewards: sums, oldLogProbs: inLoss.flatMap { $0.oldLogProbs! },
            referenceLogProbs: advantages.beta != 0 ? inLoss.flatMap { $0.referenceLogProbs! } : nil,
            counts: completions.map(\.lossTokens))
        let rewardMetrics = rewards.metrics(scores, sums: sums, spreads: rewards.groupSpreads(sums))
        return (result.advantages.map(Double.init), rewardMetrics.merging(result.metrics) { $1 })
    }
}
