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
        /// The group-normalised advantage.
        public let advantage: Float
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

/// Samples and scores GRPO's generation rounds: generation with the KV-cache sampler, decoding for
/// the reward functions, group-normalised advantages, and the old and reference log-probs when the
/// loss needs them.
struct GRPORolloutMaker {
    let model: LanguageModel
    /// A frozen reference model for full fine-tuning; nil means the model with adapters off.
    let reference: LanguageModel?
    let tokenizer: Tokenizer
    let rewards: [any RewardFunction]
    let advantages: GRPOAdvantages
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
        let (advantageValues, rewardMetrics) = advantages.compute(scores)
        var completions = zip(repeated, generated).enumerated().map { index, pair in
            let truncated = pair.1.finishReason != .eos
            return GRPORollout.Completion(promptIds: pair.0.promptIds, completionIds: pair.1.ids, isTruncated: truncated,
                                          inLoss: !(truncated && maskTruncated), advantage: Float(advantageValues[index]))
        }
        if needsOldLogProbs {
            let values = logProbs(of: completions, under: model)
            for index in completions.indices { completions[index].oldLogProbs = values[index] }
        }
        if needsReferenceLogProbs {
            let values = reference.map { logProbs(of: completions, under: $0) }
                ?? model.withAdaptersDisabled { logProbs(of: completions, under: model) }
            for index in completions.indices { completions[index].referenceLogProbs = values[index] }
        }
        return GRPORollout(completions: completions, metrics: rewardMetrics.merging(lengthMetrics(completions)) { $1 })
    }

    /// The completion tokens' log-probs under `model` as it is now, without gradients.
    private func logProbs(of completions: [GRPORollout.Completion], under model: LanguageModel) -> [[Float]] {
        Tensor.withoutGrad {
            stride(from: 0, to: completions.count, by: scoringBatchSize).flatMap { start in
                let chunk = completions[start..<min(start + scoringBatchSize, completions.count)]
                let scored = model.sequenceLogProbs(chunk.map { $0.promptIds + $0.completionIds },
                                                    scoredFrom: chunk.map { $0.promptIds.count }, temperature: temperature)
                let values = scored.logProbs.toArray()
                return zip(scored.offsets, scored.counts).map { Array(values[$0..<$0 + $1]) }
            }
        }
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
