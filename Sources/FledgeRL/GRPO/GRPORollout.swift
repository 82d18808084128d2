import FledgeLM
import FledgeTensor

/// One generation round of GRPO, sampled and scored: what TRL's `_generate_and_score_completions`
/// produces for the local generation batch.
public struct GRPORollout {
    /// One sampled completion and what the loss needs of it.
    public struct Completion {
        /// The prompt's token ids.
        public let promptIds: [Int]
        /// The sampled ids, ending with the EOS that ended the completion (kept in the loss, as in TRL).
        public let completionIds: [Int]
        /// Whether the completion hit `max_completion_length` without an EOS.
        public let isTruncated: Bool
        /// Whether its tokens take part in the loss (false for a truncated completion under
        /// `mask_truncated_completions`).
        public let inLoss: Bool
        /// The advantage (GRPO: group-normalised; RLOO: against the leave-one-out baseline).
        public internal(set) var advantage: Float
        /// Log-probs of the completion under the sampling policy (off-policy training only).
        public var oldLogProbs: [Float]?
        /// Log-probs of the completion under the reference policy (adapters off; `beta` ≠ 0 only).
        public var referenceLogProbs: [Float]?

        /// Tokens of the completion in the loss.
        public var lossTokens: Int { inLoss ? completionIds.count : 0 }
    }

    /// The completions, `num_generations` consecutive ones per prompt.
    public var completions: [Completion]
    /// Loss tokens over the whole round (TRL's `num_items_in_batch`).
    public var generationBatchTokens: Int { completions.reduce(0) { $0 + $1.lossTokens } }
    /// TRL's generation and reward metrics for the round (`reward`, `completions/mean_length` …).
    public var metrics: [String: Double]
}

/// How a generation round's completions get their advantages: from their rewards (GRPO's group
/// normalisation) and, for RLOO, from their old and reference log-probs too (the KL in the reward).
protocol AdvantageEstimator {
    /// The advantage of each completion (in order) and the round's reward metrics.
    func advantages(_ scores: RewardScores, of completions: [GRPORollout.Completion]) -> (advantages: [Double], metrics: [String: Double])
}

extension GRPOAdvantages: AdvantageEstimator {
    func advantages(_ scores: RewardScores, of completions: [GRPORollout.Completion]) -> (advantages: [Double], metrics: [String: Double]) {
        compute(scores)
    }
}

/// Samples and scores the generation rounds of GRPO and RLOO: generation with the KV-cache sampler,
/// decoding for the reward functions, the old and reference log-probs when needed, and the
/// advantages.
struct GRPORolloutMaker {
    let model: LanguageModel
    let reference: ReferencePolicy
    let tokenizer: Tokenizer
    let rewards: [any RewardFunction]
    let advantages: any AdvantageEstimator
    let sampling: SamplingOptions
    let temperature: Float
    let maskTruncated: Bool
    let needsOldLogProbs: Bool
    let needsReferenceLogProbs: Bool
    /// Rows per forward pass when computing old and reference log-probs.
    let scoringBatchSize: Int

    /// Samples `groupSize` completions of each row's prompt with sampling seed `seed` and scores them.
    func rollout(_ rows: [PromptDataset.Row], groupSize: Int, seed: UInt64) throws -> GRPORollout {
        let repeated = rows.flatMap { Array(repeating: $0, count: groupSize) }
        var options = sampling
        options.seed = seed
        let generated = model.generate(repeated.map(\.promptIds), options: options)
        let samples = zip(repeated, generated).map { row, sequence in
            RewardSample(prompt: row.prompt, completion: tokenizer.decode(sequence.ids, skipSpecialTokens: true),
                         completionIds: sequence.ids, columns: row.columns)
        }
        let scores = try RewardScores.score(samples, with: rewards)
        var completions = zip(repeated, generated).map { row, sequence in
            let truncated = sequence.finishReason != .eos
            return GRPORollout.Completion(promptIds: row.promptIds, completionIds: sequence.ids, isTruncated: truncated,
                                          inLoss: !(truncated && maskTruncated), advantage: 0)
        }
        let sequences = completions.map { $0.promptIds + $0.completionIds }, starts = completions.map(\.promptIds.count)
        func split(_ flat: [Float]) -> [[Float]] {
            var offset = 0
            return completions.map { completion in
                defer { offset += completion.completionIds.count }
                return Array(flat[offset..<offset + completion.completionIds.count])
            }
        }
        if needsOldLogProbs {
            let values = split(model.logProbsWithoutGrad(sequences, scoredFrom: starts, temperature: temperature,
                                                         batchSize: scoringBatchSize))
            for index in completions.indices { completions[index].oldLogProbs = values[index] }
        }
        if needsReferenceLogProbs {
            let values = split(reference.logProbs(sequences, scoredFrom: starts, temperature: temperature, batchSize: scoringBatchSize))
            for index in completions.indices { completions[index].referenceLogProbs = values[index] }
        }
        let (advantageValues, rewardMetrics) = advantages.advantages(scores, of: completions)
        for index in completions.indices { completions[index].advantage = Float(advantageValues[index]) }
        return GRPORollout(completions: completions, metrics: rewardMetrics.merging(lengthMetrics(completions)) { $1 })
    }

    /// TRL's `completions/*` metrics.
    private func lengthMetrics(_ completions: [GRPORollout.Completion]) -> [String: Double] {
        let lengths = completions.map { Double($0.completionIds.count) }
        let terminated = completions.filter { !$0.isTruncated }.map { Double($0.completionIds.count) }
        func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }
        return [
            "completions/mean_length": mean(lengths),
            "completions/min_length": lengths.min() ?? 0,
            "completions/max_length": lengths.max() ?? 0,
            "completions/clipped_ratio": Double(completions.count - terminated.count) / Double(max(completions.count, 1)),
            "completions/mean_terminated_length": mean(terminated),
            "completions/min_terminated_length": terminated.min() ?? 0,
            "completions/max_terminated_length": terminated.max() ?? 0,
        ]
    }
}
