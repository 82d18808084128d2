/// One sampled completion as the completion log records it (TRL's `log_completions` table: prompt,
/// completion and, for an algorithm trained on rewards, each reward and the advantage), with its
/// length and whether it was clipped. Distillation's entries have no rewards and no advantage.
public struct LoggedCompletion: Sendable, Equatable {
    /// The dataset row's prompt: text or chat messages.
    public let prompt: JSONValue
    /// The completion's text, decoded without special tokens (what the reward functions saw).
    public let completion: String
    /// The reward functions' names, in the order of `rewards` (empty: no reward functions, as in distillation).
    public let rewardNames: [String]
    /// Each function's reward (nil: it gave none).
    public let rewards: [Double?]
    /// The advantage the loss used (nil: the algorithm has none, as distillation).
    public let advantage: Double?
    /// Completion tokens (an EOS that ended it included).
    public let length: Int
    /// Whether it reached `max_completion_length` without an end-of-sequence token.
    public let clipped: Bool

    public init(prompt: JSONValue, completion: String, rewardNames: [String] = [], rewards: [Double?] = [],
                advantage: Double? = nil, length: Int, clipped: Bool) {
        self.prompt = prompt
        self.completion = completion
        self.rewardNames = rewardNames
        self.rewards = rewards
        self.advantage = advantage
        self.length = length
        self.clipped = clipped
    }

    /// One line of `completions.jsonl`: `{"step", "prompt", "completion", "rewards": {NAME: value or
    /// null}, "advantage", "length", "clipped"}`, without `rewards` when there are no reward functions
    /// and without `advantage` when there is none.
    public func json(step: Int) -> JSONValue {
        var fields: [(String, JSONValue)] = [("step", .int(step)), ("prompt", prompt), ("completion", .string(completion))]
        if !rewardNames.isEmpty {
            fields.append(("rewards", .object(JSONObject(zip(rewardNames, rewards).map { ($0, $1.map(JSONValue.double) ?? .null) }))))
        }
        if let advantage { fields.append(("advantage", .double(advantage))) }
        fields += [("length", .int(length)), ("clipped", .bool(clipped))]
        return .object(JSONObject(fields))
    }

    /// The completion as read back from a line of `completions.jsonl`, with its step; nil for a line
    /// of another shape.
    public static func read(_ line: JSONValue) -> (step: Int, completion: LoggedCompletion)? {
        guard case .int(let step)? = line["step"], let prompt = line["prompt"], case .string(let text)? = line["completion"],
              case .int(let length)? = line["length"], case .bool(let clipped)? = line["clipped"] else { return nil }
        let rewards: JSONObject
        switch line["rewards"] {
        case nil: rewards = JSONObject()
        case .object(let given)?: rewards = given
        default: return nil
        }
        let advantage = number(line["advantage"])
        if line["advantage"] != nil && advantage == nil { return nil }
        return (step, LoggedCompletion(prompt: prompt, completion: text, rewardNames: rewards.keys,
                                       rewards: rewards.entries.map { number($0.value) }, advantage: advantage,
                                       length: length, clipped: clipped))
    }

    private static func number(_ value: JSONValue?) -> Double? {
        switch value {
        case .int(let number)?: Double(number)
        case .double(let number)?: number
        default: nil
        }
    }
}

/// The completions an algorithm logs at a logging step (TRL's `log_completions`): the latest
/// generation round's rows on this process, in the order they were trained, and how many of them a
/// terminal shows (`num_completions_to_print`; nil: all).
public struct CompletionLog: Sendable {
    public let completions: [LoggedCompletion]
    public let printLimit: Int?

    public init(completions: [LoggedCompletion], printLimit: Int?) {
        self.completions = completions
        self.printLimit = printLimit
    }
}
