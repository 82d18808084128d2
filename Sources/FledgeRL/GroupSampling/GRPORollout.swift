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
        /// The advantage (GRPO: group-normalised; RLOO: against the leave-one-out baseline).
        public internal(set) var advantage: Float
        /// Log-probs of the completion under the sampling policy (off-policy training only).
        public var oldLogProbs: [Float]?
        /// Log-probs of the completion under the reference policy (adapters off; `beta` ≠ 0 only).
        public var referenceLogProbs: [Float]?
        /// For a multi-turn completion (tool calling), which tokens the model generated (TRL's `tool_mask`); the
        /// others — tool results and the template's tokens around them — are left out of the loss. Nil: all of them.
        /// The old and reference log-probs then hold the model's tokens only.
        public var modelTokens: [Bool]? = nil
        /// The row's number in its generation round (its sampling seed index), which keys its NEFTune noise.
        public internal(set) var roundRow = 0

        /// Tokens of the completion the model generated.
        public var modelTokenCount: Int { modelTokens.map { $0.filter { $0 }.count } ?? completionIds.count }

        /// Tokens of the completion in the loss.
        public var lossTokens: Int { inLoss ? modelTokenCount : 0 }

        /// The loss flags of the completion's tokens: the model's tokens of a completion in the loss.
        var lossFlags: [Bool] {
            inLoss ? modelTokens ?? Array(repeating: true, count: completionIds.count) : []
        }
    }

    /// This process's completions, in the order of the rows it was asked for.
    public var completions: [Completion]
    /// Loss tokens over the whole round on every process (TRL's `num_items_in_batch`).
    public var generationBatchTokens: Int
    /// TRL's generation and reward metrics for the whole round (`reward`, `completions/mean_length` …).
    public var metrics: [String: Double]
    /// This process's completions as the completion log records them, in the order of `completions`
    /// (empty unless the maker logs completions).
    public var logged: [LoggedCompletion] = []
    /// The length TRL pads the round's passes over this process's rows to (its longest prompt plus its
    /// longest completion): NEFTune's `L` for the old and reference log-probs and the loss.
    public var paddedLength = 0

    /// TRL's padded length of passes over `completions` (``NEFTunePass/paddedLength(prompts:completions:)``).
    static func paddedLength(of completions: [Completion]) -> Int {
        NEFTunePass.paddedLength(prompts: completions.map(\.promptIds), completions: completions.map(\.completionIds))
    }
}

/// Samples and scores the generation rounds of GRPO and RLOO: generation with the KV-cache sampler,
/// decoding for the reward functions, the old and reference log-probs when needed, and the
/// advantages.
///
/// A round's rows are its prompts each repeated `num_generations` times; row `i` samples with its
/// own generator (seed index `i`), so a row samples the same tokens whichever process generates it.
/// Generation prefills each distinct prompt of a process's rows once and lets the rows continuing
/// it share its keys and values; a row stops computing as soon as it ends (continuous batching,
/// `LanguageModel.generate`).
/// Each process generates and scores the rows it is given; rewards, lengths and loss-token counts
/// are then gathered from every process (TRL's `gather`: a group may span processes), so that
/// advantages and metrics are those of the whole round.
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
    /// The processes sharing each round.
    let communicator: any Communicator
    /// Whether rollouts keep their completions for the completion log (`log_completions`).
    var logsCompletions = false
    /// With tools or an environment: rows are multi-turn episodes.
    var agents: AgentRollouts? = nil
    /// NEFTune's α (`neftune_noise_alpha`), or nil for no noise on the sampling and old and reference passes.
    var neftuneNoiseAlpha: Double? = nil

    /// The NEFTune noise of the round's `pass` (seeded with the round's `seed`), keyed by `rows` and with TRL's
    /// `length` for the scoring passes; nil without `neftune_noise_alpha`. These passes run without gradients
    /// in TRL's training mode, so they are noised.
    private func noise(_ pass: NEFTunePass, seed: UInt64, rows: [Int]? = nil, length: Int? = nil) -> NEFTuneNoise? {
        neftuneNoiseAlpha.map {
            NEFTuneNoise(alpha: Float($0), seed: seed ^ pass.rawValue, noisesPassesWithoutGrad: true,
                         rowKeys: rows.map { $0.map(UInt64.init) }, length: length)
        }
    }

    /// Samples and scores the round of `prompts` (`groupSize` rows each) with sampling seed `seed`:
    /// this process generates the rows numbered `rows`, in that order; the rows of all processes
    /// together must be the whole round.
    func rollout(_ prompts: [PromptDataset.Row], groupSize: Int, seed: UInt64, rows: [Int]) throws -> GRPORollout {
        let repeated = rows.map { prompts[$0 / groupSize] }
        var options = sampling
        options.seed = seed
        let generated: [AgentRollouts.Row] = try model.withNEFTuneNoise(noise(.sampling, seed: seed)) {
            if let agents {
                return try agents.generate(repeated, rowNumbers: rows, options: options, model: model)
            }
            return zip(repeated, model.generate(repeated.map(\.promptIds), options: options, seedIndices: rows)).map {
                AgentRollouts.Row.singleTurn($0, $1, tokenizer: tokenizer)
            }
        }
        let samples = zip(repeated, generated).map { row, episode in
            RewardSample(prompt: row.prompt, completion: episode.completion, completionIds: episode.completionIds, columns: row.columns,
                         completionMessages: agents == nil ? nil : episode.messages)
        }
        let scores = try RewardScores.score(samples, with: rewards)
        var completions = generated.map { episode in
            GRPORollout.Completion(promptIds: episode.promptIds, completionIds: episode.completionIds,
                                   isTruncated: episode.isTruncated, inLoss: !(episode.isTruncated && maskTruncated),
                                   advantage: 0, modelTokens: agents == nil ? nil : episode.modelTokens)
        }
        for (index, row) in rows.enumerated() { completions[index].roundRow = row }
        let sequences = completions.map { $0.promptIds + $0.completionIds }, starts = completions.map(\.promptIds.count)
        let paddedLength = GRPORollout.paddedLength(of: completions)
        // Each completion's log-probs, of the model's own tokens only (a multi-turn completion's tool results are
        // scored with the rest, then dropped).
        func split(_ scored: ScoredTokens) -> [[Float]] {
            zip(scored.rows, completions).map { values, completion in
                guard let kept = completion.modelTokens else { return values }
                return zip(values, kept).filter(\.1).map(\.0)
            }
        }
        if needsOldLogProbs {
            let values = split(model.withNEFTuneNoise(noise(.oldLogProbs, seed: seed, rows: rows, length: paddedLength)) {
                model.scoreWithoutGrad(sequences, scoredFrom: starts, temperature: temperature, batchSize: scoringBatchSize)
            })
            for index in completions.indices { completions[index].oldLogProbs = values[index] }
        }
        if needsReferenceLogProbs {
            // The noise is the policy model's: the reference with adapters off runs through it and is noised, a
            // separate frozen reference is not (TRL's hook sits on the trained model's embeddings only).
            let values = split(model.withNEFTuneNoise(noise(.referenceLogProbs, seed: seed, rows: rows, length: paddedLength)) {
                reference.score(sequences, scoredFrom: starts, temperature: temperature, batchSize: scoringBatchSize)
            })
            for index in completions.indices { completions[index].referenceLogProbs = values[index] }
        }
        let round = try GRPORoundSummary.gather(rows: rows, completions: completions, scores: scores,
                                                rowCount: prompts.count * groupSize, communicator: communicator)
        let (advantageValues, rewardMetrics) = advantages.advantages(round.scores, of: inRowOrder(completions, rows: rows))
        for (index, row) in rows.enumerated() { completions[index].advantage = Float(advantageValues[row]) }
        var metrics = rewardMetrics.merging(round.lengthMetrics) { $1 }
        if agents != nil {
            let local = [Double(generated.map(\.toolCalls).reduce(0, +)), Double(generated.map(\.toolFailures).reduce(0, +))]
            let totals = try communicator.allGather(local, purpose: "the tool calls of a generation round")
            let calls = totals.map { $0[0] }.reduce(0, +), failures = totals.map { $0[1] }.reduce(0, +)
            metrics["tools/call_frequency"] = calls / Double(max(round.scores.values.first?.count ?? rows.count, 1))
            metrics["tools/failure_frequency"] = calls > 0 ? failures / calls : 0
        }
        var rollout = GRPORollout(completions: completions, generationBatchTokens: round.lossTokens, metrics: metrics)
        rollout.paddedLength = paddedLength
        if logsCompletions {
            rollout.logged = completions.indices.map { index in
                LoggedCompletion(prompt: samples[index].prompt, completion: samples[index].completion, rewardNames: scores.names,
                                 rewards: scores.values.map { $0[index] }, advantage: Double(completions[index].advantage),
                                 length: completions[index].completionIds.count, clipped: completions[index].isTruncated)
            }
        }
        return rollout
    }

    /// `completions` (those of `rows`) in row order when they are the whole round, else nil.
    private func inRowOrder(_ completions: [GRPORollout.Completion], rows: [Int]) -> [GRPORollout.Completion]? {
        guard communicator.size == 1 else { return nil }
        var ordered = completions
        for (completion, row) in zip(completions, rows) { ordered[row] = completion }
        return ordered
    }
}
