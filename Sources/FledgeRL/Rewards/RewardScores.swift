/// The rewards every reward function gave every completion of a batch; nil where a function gave
/// none (TRL's `None`, "not applicable to this sample").
public struct RewardScores: Equatable, Sendable {
    /// The functions' names, as the metrics `rewards/<name>/mean` name them.
    public let names: [String]
    /// `values[f][i]`: function `f`'s reward for completion `i`.
    public let values: [[Double?]]

    /// Scores of `names.count` functions for the same completions.
    public init(names: [String], values: [[Double?]]) {
        precondition(names.count == values.count, "\(values.count) reward columns for \(names.count) functions")
        precondition(Set(values.map(\.count)).count <= 1, "reward functions scored different numbers of completions")
        self.names = names
        self.values = values
    }

    /// Completions scored.
    public var count: Int { values.first?.count ?? 0 }
}
