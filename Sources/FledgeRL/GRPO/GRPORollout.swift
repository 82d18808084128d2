import FledgeLM
import FledgeTensor

/// One generation round of GRPO, sampled and scored: what TRL's `_generate_and_score_completions`
/// produces for the local generation batch, with the advantages and metrics of the whole (global)
/// generation batch.
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
        public var advantage: Float
        /// Log-probs of the completion under the sampling policy (off-policy training only).
        public var oldLogProbs: [Float]?
        /// Log-probs of the completion under the reference policy (adapters off; `beta` ≠ 0 only).
        public var referenceLogProbs: [Float]?

        /// Tokens of the completion in the loss.
        public var lossTokens: Int { inLoss ? completionIds.count : 0 }
    }

    /// This process's completions, in the order of the rows it was asked for.
    public var completions: [Completion]
    /// Loss tokens over the whole round on every process (TRL's `num_items_in_batch`).
    public var generationBatchTokens: Int
    /// TRL's generation and reward metrics for the whole round (`reward`, `completions/mean_length` …).
    public var metrics: [String: Double]
}

/// Samples and scores GRPO's generation rounds: generation with the KV-cache sampler, decoding for
/// the reward functions, group-normalised advantages, and the old and reference log-probs when the
/// loss needs them.
///
/// A round's rows are its prompts each repeated `num_generations` times; row `i` samples with its
/// own generator (seed index `i`), so a row samples the same tokens whichever process generates it.
/// Each process generates and scores the rows it is given; rewards, lengths and loss-token counts
/// are then gathered from every process (TRL's `gather`: a group may span processes), so that
/// advantages and metrics are those of the whole round.
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
    /// The processes sharing each round.
    let communicator: any Communicator

    /// Samples and scores the round of `prompts` (`groupSize` rows each) with sampling seed `seed`:
    /// this process generates the rows numbered `rows`, in that order; the rows of all processes
    /// together must be the whole round.
    func rollout(_ prompts: [PromptDataset.Row], groupSize: Int, seed: UInt64, rows: [Int]) throws -> GRPORollout {
        let repeated = rows.map { prompts[$0 / groupSize] }
        var options = sampling
        options.seed = seed
        let generated = model.generate(repeated.map(\.promptIds), options: options, seedIndices: rows)
        let samples = zip(repeated, generated).map { row, sequence in
            RewardSample(prompt: row.prompt, completion: tokenizer.decode(sequence.ids, skipSpecialTokens: true),
                         completionIds: sequence.ids, columns: row.columns)
        }
        var completions = zip(repeated, generated).map { row, sequence in
            let truncated = sequence.finishReason != .eos
            return GRPORollout.Completion(promptIds: row.promptIds, completionIds: sequence.ids, isTruncated: truncated,
                                          inLoss: !(truncated && maskTruncated), advantage: 0)
        }
        let round = try GRPORoundSummary.gather(rows: rows, completions: completions,
                                                scores: try RewardScores.score(samples, with: rewards),
                                                rowCount: prompts.count * groupSize, communicator: communicator)
        let (advantageValues, rewardMetrics) = advantages.compute(round.scores)
        for (index, row) in rows.enumerated() { completions[index].advantage = Float(advantageValues[row]) }
        if needsOldLogProbs {
            let values = logProbs(of: completions, under: model)
            for index in completions.indices { completions[index].oldLogProbs = values[index] }
        }
        if needsReferenceLogProbs {
            let values = reference.map { logProbs(of: completions, under: $0) }
                ?? model.withAdaptersDisabled { logProbs(of: completions, under: model) }
            for index in completions.indices { completions[index].referenceLogProbs = values[index] }
        }
        return GRPORollout(completions: completions, generationBatchTokens: round.lossTokens,
                           metrics: rewardMetrics.merging(round.lengthMetrics) { $1 })
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
}
