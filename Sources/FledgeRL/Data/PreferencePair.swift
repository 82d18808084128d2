/// A tokenized preference pair as DPO trains on it: the prompt followed by each completion, each
/// sequence truncated to `max_length` on its own (TRL's `DataCollatorForPreference`).
public struct PreferencePair: Equatable, Sendable {
    public var chosen: CompletionSequence
    public var rejected: CompletionSequence

    public init(chosen: CompletionSequence, rejected: CompletionSequence) {
        self.chosen = chosen
        self.rejected = rejected
    }
}

/// Prompt and completion token ids in one sequence, and where the completion starts.
public struct CompletionSequence: Equatable, Sendable {
    public var ids: [Int]
    /// The index of the first completion token (TRL's `completion_mask` is 1 from here on); 0 when
    /// `keep_end` truncation cut the whole prompt away.
    public var completionStart: Int

    public init(ids: [Int], completionStart: Int) {
        precondition((0...ids.count).contains(completionStart), "completion start \(completionStart) in \(ids.count) ids")
        self.ids = ids
        self.completionStart = completionStart
    }

    /// The first token whose log-probability counts: the first completion token that has a token
    /// before it (TRL's mask is shifted by one).
    public var scoredFrom: Int { Swift.min(Swift.max(completionStart, 1), ids.count) }

    /// Completion tokens whose log-probability counts.
    public var scoredCount: Int { ids.count - scoredFrom }
}
