/// One sampled completion as reward functions see it (what TRL passes a reward function:
/// `prompts`, `completions`, `completion_ids` and every other dataset column).
public struct RewardSample: Sendable, Equatable {
    /// The dataset row's prompt: text, or a list of chat messages.
    public let prompt: JSONValue
    /// The completion's text, decoded from its ids without special tokens.
    public let completion: String
    /// The sampled token ids of the completion.
    public let completionIds: [Int]
    /// Every other column of the dataset row (for example `answer`).
    public let columns: JSONObject
    /// For a multi-turn episode (tools, an environment): its messages after the prompt — each assistant turn as
    /// parsed (with its `tool_calls`) and each `tool` result — which is what TRL's reward functions get as the
    /// completion; `completion` is then the last assistant message's text. Nil for a single-turn completion.
    public let completionMessages: [JSONValue]?

    public init(prompt: JSONValue, completion: String, completionIds: [Int], columns: JSONObject = JSONObject(),
                completionMessages: [JSONValue]? = nil) {
        self.prompt = prompt
        self.completion = completion
        self.completionIds = completionIds
        self.columns = columns
        self.completionMessages = completionMessages
    }
}

/// A reward function: scores a batch of completions, one value per completion in order, or nil for a
/// completion it does not apply to (TRL's `None`; a completion no function scores gets advantage 0).
///
/// Library users pass their own conforming types to the GRPO trainer beside the built-in ones.
public protocol RewardFunction {
    /// The name in the metrics (`rewards/<name>/mean`).
    var name: String { get }

    /// One reward (or nil) per sample, in order; throws a `RewardError` when it cannot score.
    func score(_ samples: [RewardSample]) throws -> [Double?]

    /// The reward a completion that does everything asked of it gets, which evaluation counts as
    /// correct (``ModelEvaluation``); nil when it has none (the
    /// built-in functions' full scores: `FullScore.swift`).
    var fullScore: Double? { get }
}

extension RewardScores {
    /// Scores `samples` with every function, checking that each returns exactly one value per
    /// sample, each finite and of magnitude at most 1e30 (``ConfigRange/ordinaryMagnitude``: sums and
    /// weights of such rewards stay finite); NaN counts as no value, as TRL reads it.
    public static func score(_ samples: [RewardSample], with functions: [any RewardFunction]) throws -> RewardScores {
        let values = try functions.map { function in
            let rewards = try function.score(samples)
            guard rewards.count == samples.count else {
                throw RewardError(
                    "reward function '\(function.name)' returned \(rewards.count) rewards for \(samples.count) "
                        + "completions; it must return exactly one value (or nil) per completion, in order")
            }
            let kept = rewards.map { $0.flatMap { $0.isNaN ? nil : $0 } }
            if let index = kept.firstIndex(where: { $0.map { !ConfigRange.ordinaryMagnitude.contains($0) } ?? false }) {
                let completion = samples[index].completion
                let excerpt = completion.count <= 200 ? completion : completion.prefix(200) + "…"
                throw RewardError(
                    "reward function '\(function.name)' gave completion \(index + 1) of \(samples.count) the reward "
                        + "\(ConfigRange.format(kept[index]!)), outside \(ConfigRange.ordinaryMagnitude); rewards must be "
                        + "finite numbers of magnitude at most 1e30 (or nil, null in JSON, for no reward); the completion: "
                        + JSONStringLiteral.quoted(String(excerpt)))
            }
            return kept
        }
        return RewardScores(names: functions.map(\.name), values: values)
    }
}
