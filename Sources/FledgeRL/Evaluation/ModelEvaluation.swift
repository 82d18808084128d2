import Foundation
import FledgeLM

/// How good a model is on prompts: `fledge eval`, evaluation during GRPO/RLOO training and the
/// demo's held-out problems all measure with this.
///
/// Every prompt gets `samplesPerPrompt` completions, generated as GRPO's rollouts generate (one
/// ``LanguageModel/generate(_:options:seedIndices:concurrentRows:shouldStop:onToken:onFinish:)`` call with
/// continuous batching, each distinct prompt prefilled once, completion `j` of prompt `r` seeded
/// with index `r · samplesPerPrompt + j`, so that the batching never changes what is sampled), and
/// is scored by the reward functions training uses, decoded without special tokens.
///
/// - A completion's reward is the weighted sum of its functions' rewards, a missing one counting 0
///   (TRL's `nansum` of `rewards · reward_weights`); `meanReward` is its mean over completions.
/// - A completion is **correct** when every function that has a full score
///   (``RewardFunction/fullScore``) gives it at least that score; a function that gives no reward
///   (nil) has not reached it. With no such function there is no accuracy.
/// - `accuracy` is the mean over prompts of each prompt's share of correct completions — the share
///   of prompts answered correctly with one sample, pass@1 with several — and `accuracyInterval`
///   its 95 % Wilson interval over the prompts (``WilsonInterval``).
/// - `passAtK` holds pass@k by the unbiased estimator (``PassAtK``) for k = 1, 2, 4, …, samples.
/// - `meanLength` is the mean completion length in tokens (an EOS that ended it included).
public struct ModelEvaluation: Sendable {
    /// One prompt and its scored completions.
    public struct Row: Sendable {
        /// The dataset row's prompt: text or chat messages.
        public let prompt: JSONValue
        /// The completions' text.
        public let completions: [String]
        /// The completions' token ids.
        public let completionIds: [[Int]]
        /// `rewards[f][j]`: reward function `f`'s reward of completion `j` (nil: none given).
        public let rewards: [[Double?]]
        /// Each completion's weighted reward sum.
        public let totals: [Double]
        /// Whether each completion is correct (all false when no function has a full score).
        public let correct: [Bool]
        /// Whether each completion ended without an end-of-sequence token (at the token limit).
        public let clipped: [Bool]
        /// Each completion's length in tokens the model generated (for an episode, tool results left out).
        public let lengths: [Int]
    }

    /// The reward functions' names, in the order of each row's `rewards`.
    public let rewardNames: [String]
    public let samplesPerPrompt: Int
    public let rows: [Row]
    /// The mean share of correct completions per prompt; nil when no function has a full score.
    public let accuracy: Double?
    /// The 95 % Wilson interval of `accuracy` over the prompts.
    public let accuracyInterval: WilsonInterval?
    /// The mean weighted reward of a completion.
    public let meanReward: Double
    /// pass@k for k = 1, 2, 4, …, `samplesPerPrompt`, in that order (empty without an accuracy).
    public let passAtK: [(k: Int, value: Double)]
    /// The mean completion length in tokens (the model's).
    public let meanLength: Double
    /// Tool calls over every episode, and how many failed (0 without tools).
    public let toolCalls: Int
    public let toolFailures: Int
    /// Seconds spent generating and scoring.
    public let seconds: Double

    /// Generates `samplesPerPrompt` completions of each row of `prompts` with `options` (its seed
    /// included) and scores them with `rewards`, weighted by `rewardWeights` (default 1 each).
    /// `concurrentRows` bounds the completions decoded at once (default: all). Throws what a reward
    /// function throws.
    public init(model: LanguageModel, tokenizer: Tokenizer, prompts: [PromptDataset.Row], rewards: [any RewardFunction],
                rewardWeights: [Double]? = nil, options: SamplingOptions, samplesPerPrompt: Int = 1,
                concurrentRows: Int? = nil) throws {
        try self.init(model: model, tokenizer: tokenizer, prompts: prompts, rewards: rewards, rewardWeights: rewardWeights,
                      options: options, samplesPerPrompt: samplesPerPrompt, concurrentRows: concurrentRows, episodes: nil)
    }

    /// The evaluation of `episodes` when given: each completion a multi-turn episode with its tools (all decoded
    /// together; `concurrentRows` bounds single-turn decoding only), reward functions seeing its messages.
    init(model: LanguageModel, tokenizer: Tokenizer, prompts: [PromptDataset.Row], rewards: [any RewardFunction],
         rewardWeights: [Double]?, options: SamplingOptions, samplesPerPrompt: Int, concurrentRows: Int?,
         episodes: AgentRollouts?) throws {
        precondition(samplesPerPrompt >= 1, "evaluation needs at least one sample per prompt, got \(samplesPerPrompt)")
        precondition(!prompts.isEmpty, "evaluation needs at least one prompt")
        let weights = rewardWeights ?? Array(repeating: 1, count: rewards.count)
        precondition(weights.count == rewards.count, "\(weights.count) reward weights for \(rewards.count) reward functions")
        let start = Date()
        let k = samplesPerPrompt
        let repeated = prompts.flatMap { Array(repeating: $0, count: k) }
        let generated: [AgentRollouts.Row]
        if let episodes {
            generated = try episodes.generate(repeated, rowNumbers: Array(repeated.indices), options: options, model: model)
        } else {
            generated = zip(repeated, model.generate(repeated.map(\.promptIds), options: options, seedIndices: Array(repeated.indices),
                                                     concurrentRows: concurrentRows.map { min($0, repeated.count) })).map {
                AgentRollouts.Row.singleTurn($0, $1, tokenizer: tokenizer)
            }
        }
        let samples = zip(repeated, generated).map { row, episode in
            RewardSample(prompt: row.prompt, completion: episode.completion, completionIds: episode.completionIds,
                         columns: row.columns, completionMessages: episodes == nil ? nil : episode.messages)
        }
        let scores = try RewardScores.score(samples, with: rewards)
        let judged = rewards.enumerated().compactMap { index, function in function.fullScore.map { (index, $0) } }
        rows = prompts.indices.map { r in
            let range = r * k..<(r + 1) * k
            let values = scores.values.map { Array($0[range]) }
            return Row(
                prompt: prompts[r].prompt, completions: samples[range].map(\.completion),
                completionIds: generated[range].map(\.completionIds), rewards: values,
                totals: (0..<k).map { j in zip(values, weights).reduce(0) { $0 + ($1.0[j] ?? 0) * $1.1 } },
                correct: (0..<k).map { j in
                    !judged.isEmpty && judged.allSatisfy { function, full in values[function][j].map { $0 >= full } ?? false }
                },
                clipped: generated[range].map(\.isTruncated), lengths: generated[range].map(\.modelTokenCount))
        }
        rewardNames = scores.names
        self.samplesPerPrompt = k
        let completionCount = Double(repeated.count)
        meanReward = rows.reduce(0) { $0 + $1.totals.reduce(0, +) } / completionCount
        meanLength = Double(generated.reduce(0) { $0 + $1.modelTokenCount }) / completionCount
        toolCalls = generated.reduce(0) { $0 + $1.toolCalls }
        toolFailures = generated.reduce(0) { $0 + $1.toolFailures }
        if judged.isEmpty {
            accuracy = nil
            accuracyInterval = nil
            passAtK = []
        } else {
            let correctCounts = rows.map { $0.correct.filter { $0 }.count }
            let share = correctCounts.reduce(0) { $0 + Double($1) / Double(k) }
            accuracy = share / Double(rows.count)
            accuracyInterval = WilsonInterval(successes: share, trials: rows.count)
            passAtK = PassAtK.reportedKs(samples: k).map { ($0, PassAtK.mean(samples: k, correct: correctCounts, k: $0)) }
        }
        seconds = Date().timeIntervalSince(start)
    }
}
