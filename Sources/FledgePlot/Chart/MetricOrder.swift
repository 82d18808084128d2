/// The order panels appear in: what a person checks first (is the reward rising, the loss
/// falling?) comes first, then the signals of a healthy run, then throughput.
enum MetricOrder {
    /// Rules in priority order; a metric takes the rank of the first rule it matches.
    private static let rules: [@Sendable (String) -> Bool] = [
        { $0 == "reward" },
        { $0.hasPrefix("rewards/") || $0.hasPrefix("objective/scores") || $0.hasPrefix("objective/rlhf_reward") },
        { ["accuracy", "margin", "eval_accuracy", "eval_margin"].contains($0) },  // a reward model's ranking
        { $0.hasPrefix("reward") && !$0.contains("_std") },
        { $0 == "loss" },
        { $0.hasPrefix("loss") },
        { components($0).contains("kl") || $0.contains("approxkl") },
        { $0 == "grad_norm" },
        { $0 == "learning_rate" },
        { $0.contains("length") },
        { $0.contains("entropy") },
        { $0.contains("clip") },
        { $0.hasPrefix("logps/") || $0.hasPrefix("logits/") },
        { $0.contains("reward") },
        { $0 == "tokens_per_second" || $0.contains("throughput") || $0 == "num_tokens" },
        { $0.contains("memory") },
    ]

    /// The rank of `metric`: lower comes first; metrics no rule knows come last.
    static func rank(_ metric: String) -> Int {
        rules.firstIndex { $0(metric) } ?? rules.count
    }

    /// `metrics` by rank, keeping the given order among equals.
    static func sorted(_ metrics: [String]) -> [String] {
        metrics.enumerated().map { (rank($0.element), $0.offset, $0.element) }
            .sorted { ($0.0, $0.1) < ($1.0, $1.1) }
            .map(\.2)
    }

    private static func components(_ metric: String) -> [Substring] {
        metric.split { $0 == "/" || $0 == "_" }
    }
}
