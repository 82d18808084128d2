/// A tokenized reward-modelling pair: the whole chosen and rejected sequences (prompt included), each
/// scored as one sequence, and the row's margin.
public struct RewardPair: Equatable, Sendable {
    public var chosen: [Int]
    public var rejected: [Int]
    /// The `margin` column, nil without one.
    public var margin: Double?

    public init(chosen: [Int], rejected: [Int], margin: Double? = nil) {
        self.chosen = chosen
        self.rejected = rejected
        self.margin = margin
    }
}
