/// How a generation round's completions get their advantages: from their rewards (GRPO's group
/// normalisation) and, for RLOO, from their old and reference log-probs too (the KL in the reward).
protocol AdvantageEstimator {
    /// The advantage of each row of the round and the round's reward metrics, from every row's
    /// `scores`; `completions` are the round's completions in row order when this process holds the
    /// whole round, nil when the round is split over processes (an estimator that needs them then
    /// cannot run).
    func advantages(_ scores: RewardScores, of completions: [GRPORollout.Completion]?)
        -> (advantages: [Double], metrics: [String: Double])
}
