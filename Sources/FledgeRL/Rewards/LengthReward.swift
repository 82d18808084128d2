/// Length in completion tokens: either a target, rewarded −|length − target| / target (0 at the
/// target), or a plain penalty −length / maxLength that favours shorter completions.
public struct LengthReward: RewardFunction {
    /// What the reward asks of the length.
    public enum Goal: Equatable, Sendable {
        /// Completions of `tokens` tokens.
        case target(tokens: Int)
        /// Completions as short as possible, measured against `maxLength` tokens.
        case shorter(maxLength: Int)
    }

    public let name: String
    public let goal: Goal

    public init(goal: Goal, name: String = "length") {
        switch goal {
        case .target(let tokens): precondition(tokens > 0, "a length target must be positive, got \(tokens)")
        case .shorter(let maxLength): precondition(maxLength > 0, "a maximum length must be positive, got \(maxLength)")
        }
        self.goal = goal
        self.name = name
    }

    public func score(_ samples: [RewardSample]) -> [Double?] {
        samples.map { sample in
            let length = Double(sample.completionIds.count)
            switch goal {
            case .target(let tokens): return -Swift.abs(length - Double(tokens)) / Double(tokens)
            case .shorter(let maxLength): return -length / Double(maxLength)
            }
        }
    }
}
