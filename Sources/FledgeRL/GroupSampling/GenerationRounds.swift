import FledgeLM
import FledgeTensor

/// The rows of one micro-step of a group-sampling trainer (GRPO, RLOO), with its round's token count
/// and metrics.
public struct RoundMicroBatch {
    public let completions: [GRPORollout.Completion]
    /// Loss tokens of the whole generation round (TRL's `num_items_in_batch` for GRPO).
    public let generationBatchTokens: Int
    public let roundMetrics: [String: Double]
    /// Whether this is the last micro-batch of its optimizer step (where TRL's `sync_gradients` is true).
    public let endsStep: Bool
    /// The NEFTune noise of the micro-step's loss pass (seeded by the micro-step, with the round's padded
    /// length as `L`), or nil; ``scored(by:temperature:sharingPrefixes:)`` keys it by the rows' round numbers.
    var noise: NEFTuneNoise? = nil

    /// The completion tokens' log-probs under `model` (with autograd) at `temperature`, and their
    /// entropies; a completion out of the loss is scored over no tokens. With `sharingPrefixes`,
    /// completions of one prompt run the prompt once (``LanguageModel/sequenceLogProbs``).
    /// Multi-turn completions are scored over the model's tokens only (`modelTokens`).
    func scored(by model: LanguageModel, temperature: Double, sharingPrefixes: Bool = false) -> SequenceLogProbs {
        var noise = noise
        noise?.rowKeys = completions.map { UInt64($0.roundRow) }
        let scored = model.withNEFTuneNoise(noise) {
            model.sequenceLogProbs(
                completions.map { $0.promptIds + $0.completionIds },
                scoredFrom: completions.map { $0.inLoss ? $0.promptIds.count : $0.promptIds.count + $0.completionIds.count },
                temperature: Float(temperature), withEntropy: true, sharingPrefixes: sharingPrefixes)
        }
        guard completions.contains(where: { $0.modelTokens != nil }) else { return scored }
        return scored.keeping(completions.flatMap(\.lossFlags))
    }

    /// Input tokens of the micro-batch, prompts included.
    var inputTokens: Int { completions.reduce(0) { $0 + $1.promptIds.count + $1.completionIds.count } }
}

/// The generation rounds of TRL's group-sampling trainers (GRPO, RLOO) and how micro-steps take them.
///
/// Batch geometry (TRL's `RepeatSampler` and `_prepare_inputs`): each generation round takes
/// `per_device_train_batch_size · steps_per_generation / num_generations` prompts of the epoch's
/// order, samples `num_generations` completions of each, scores them and computes advantages;
/// the round's rows are shuffled and split into `steps_per_generation` micro-batches, and the round
/// is used for `steps_per_generation · num_iterations` micro-steps.
///
/// Over several processes (`communicator`), a round is the global generation batch
/// (`per_device_train_batch_size · world_size · steps_per_generation` rows). Its shuffled rows are
/// split into `world_size · steps_per_generation` micro-batches, process `p` taking the `p`-th run
/// of `steps_per_generation`, and each process generates and scores exactly its own rows; rewards
/// are gathered before the advantages (``GRPORolloutMaker``). So `N` processes see exactly the rows
/// one process with `N` times the gradient accumulation sees (TRL keeps each process's generated
/// rows on that process instead, which changes only which rows share a micro-batch).
///
/// With `share_prompt_in_training`, when the order cannot change the update (``groupsRowsByPrompt``),
/// the round's rows are not shuffled but stay grouped by prompt, so that each micro-batch holds as
/// many completions of one prompt as it can and runs that prompt once (a departure from TRL's order
/// that leaves the update the same within float rounding; each row still samples with its own seed,
/// so generation, rewards and advantages are the same, and `N` processes still train as one process
/// with `N` times the gradient accumulation).
///
/// Rounds are a pure function of the seed, the epoch and the round index (prompt order, sampling
/// seed, row shuffle), so no random state needs saving; a run resumed at a step boundary that falls
/// inside a round (`num_iterations` > 1 with checkpoints mid-round) regenerates the round with the
/// current weights.
final class GenerationRounds {
    let dataset: PromptDataset
    let maker: GRPORolloutMaker
    private let generation: GenerationArguments
    private let batchSize: Int
    private let stepsPerGeneration: Int
    private let seed: UInt64
    private let communicator: any Communicator
    private var cached: Round?
    /// DAPO's dynamic sampling (`dynamic_sampling`), or nil.
    private let dynamicSampling: DynamicSampling?
    /// Whether micro-batches take the round's rows grouped by prompt (see ``groupsRowsByPrompt``).
    let groupsRowsByPrompt: Bool
    /// NEFTune's α (`neftune_noise_alpha`), or nil.
    private let neftuneNoiseAlpha: Double?

    /// Rounds of `dataset` for `model` with `generation`'s sampling and batching and `training`'s batch
    /// size and seed, against the `reference` policy (for `needsReferenceLogProbs`). Each of the `communicator`'s processes generates its
    /// share of every round. With `ignoreEOS` completions always run to `max_completion_length`
    /// (benchmarks). `lossIsRowSeparable` says whether the loss of an optimizer step is a sum of
    /// per-row terms over normalisers that do not depend on which rows share a micro-batch (see
    /// ``groupsRowsByPrompt``). Throws when the geometry does not fit.
    init(model: LanguageModel, tokenizer: Tokenizer, dataset: PromptDataset, rewards: [any RewardFunction],
         advantages: any AdvantageEstimator, generation: GenerationArguments, training: TrainingArguments,
         reference: ReferencePolicy, ignoreEOS: Bool = false, needsOldLogProbs: Bool, needsReferenceLogProbs: Bool,
         lossIsRowSeparable: Bool, communicator: any Communicator = SingleProcess(), agents: AgentRollouts? = nil) throws {
        try dataset.requirePromptsFit(model: model, maxSeqLength: training.maxSeqLength,
                                      completionTokens: generation.maxCompletionLength, completionField: "max_completion_length")
        let groupSize = generation.numGenerations
        stepsPerGeneration = generation.stepsPerGeneration ?? training.gradientAccumulationSteps
        batchSize = training.perDeviceTrainBatchSize
        let roundRows = batchSize * communicator.size * stepsPerGeneration
        guard groupSize >= 2, roundRows % groupSize == 0 else {
            throw TrainingError.invalidSetting("per_device_train_batch_size × world_size × steps_per_generation (\(roundRows)) "
                + "must be a multiple of num_generations (\(groupSize)), which must be at least 2")
        }
        if let size = generation.generationBatchSize, size != roundRows {
            throw TrainingError.invalidSetting("generation_batch_size is \(size), but per_device_train_batch_size × world_size × "
                + "steps_per_generation is \(roundRows) with \(communicator.size) processes; resolve the config with world_size "
                + "\(communicator.size)")
        }
        guard dataset.rows.count >= roundRows / groupSize else {
            throw TrainingError.invalidSetting("\(dataset.source) has \(dataset.rows.count) prompts, fewer than the "
                + "\(roundRows / groupSize) one generation round needs; add prompts or lower per_device_train_batch_size")
        }
        let eos = tokenizer.config.eosToken.flatMap { tokenizer.id(of: $0) }
        var sampling = SamplingOptions(model.generationConfig)
        sampling.maxNewTokens = generation.maxCompletionLength
        sampling.greedy = false
        sampling.temperature = Float(generation.temperature)
        sampling.topK = generation.topK ?? 0
        sampling.topP = Float(generation.topP)
        sampling.minP = Float(generation.minP ?? 0)
        sampling.repetitionPenalty = Float(generation.repetitionPenalty)
        do {
            try generation.applyGenerationKeywordArguments(to: &sampling, vocabularySize: model.config.vocabSize)
        } catch {
            throw TrainingError.invalidSetting(error.description)
        }
        sampling.ignoreEOS = ignoreEOS
        if (sampling.eosTokenIds ?? model.generationConfig.eosTokenIds).isEmpty, let eos { sampling.eosTokenIds = [eos] }
        self.dataset = dataset
        self.generation = generation
        seed = UInt64(bitPattern: Int64(training.seed))
        self.communicator = communicator
        groupsRowsByPrompt = Self.groupsRowsByPrompt(
            generation: generation, training: training, lossIsRowSeparable: lossIsRowSeparable,
            drawsDropout: (model.loraOptions?.dropout ?? 0) > 0)
        neftuneNoiseAlpha = generation.neftuneNoiseAlpha
        var maker = GRPORolloutMaker(
            model: model, reference: reference, tokenizer: tokenizer,
            rewards: rewards, advantages: advantages, sampling: sampling, temperature: Float(generation.temperature),
            maskTruncated: generation.maskTruncatedCompletions, needsOldLogProbs: needsOldLogProbs,
            needsReferenceLogProbs: needsReferenceLogProbs, scoringBatchSize: batchSize, communicator: communicator,
            agents: agents)
        maker.logsCompletions = generation.logCompletions
        maker.neftuneNoiseAlpha = generation.neftuneNoiseAlpha
        self.maker = maker
        if generation.dynamicSampling && communicator.size > 1 {
            throw TrainingError.invalidSetting("dynamic_sampling runs in one process only (each round's groups are chosen from "
                + "every group's rewards); run without mpirun, or set dynamic_sampling: false")
        }
        dynamicSampling = generation.dynamicSampling ? DynamicSampling(maxBatches: generation.dynamicSamplingMaxBatches) : nil
    }

    /// The latest generation round's completions on this process for the completion log, in the
    /// order they are trained; nil unless `log_completions` is on.
    var completionLog: CompletionLog? {
        guard generation.logCompletions, let cached else { return nil }
        return CompletionLog(completions: cached.logged, printLimit: generation.numCompletionsToPrint)
    }

    /// Whether micro-batches may take a round's rows grouped by prompt without changing the update:
    /// prompts are shared in training (else grouping gains nothing); every optimizer step takes whole
    /// rounds (`gradient_accumulation_steps` a multiple of `steps_per_generation · num_iterations`),
    /// so a step trains on the same rows whichever micro-batch holds them; the loss is a sum of
    /// per-row terms over normalisers that do not depend on which rows share a micro-batch
    /// (`lossIsRowSeparable`: not `bnpo`, whose normaliser is the micro-batch's tokens, nor
    /// `top_entropy_quantile` < 1, whose threshold is the micro-batch's); and no LoRA dropout
    /// (whose masks are drawn row after row). Metrics averaged per micro-batch (`entropy`, clip
    /// ratios) then average differently composed micro-batches, so they may differ slightly from TRL's.
    static func groupsRowsByPrompt(generation: GenerationArguments, training: TrainingArguments,
                                   lossIsRowSeparable: Bool, drawsDropout: Bool) -> Bool {
        let stepsPerGeneration = generation.stepsPerGeneration ?? training.gradientAccumulationSteps
        let wholeRounds = training.gradientAccumulationSteps % (stepsPerGeneration * generation.numIterations) == 0
        return generation.sharePromptInTraining && wholeRounds && lossIsRowSeparable && !drawsDropout
    }

    /// Rows of one round on this process.
    private var localRoundRows: Int { batchSize * stepsPerGeneration }
    private var promptsPerRound: Int { localRoundRows * communicator.size / generation.numGenerations }
    private var roundsPerEpoch: Int { dataset.rows.count / promptsPerRound }
    private var microStepsPerRound: Int { stepsPerGeneration * generation.numIterations }

    var microBatchesPerEpoch: Int { roundsPerEpoch * microStepsPerRound }

    /// The micro-batches of a trainer step, generating each round on first use (only the current
    /// round is kept). A micro-step's NEFTune noise is a pure function of the seed, the epoch and its
    /// index, so a resumed run draws what the uninterrupted one did.
    func microBatches(for position: StepPosition) throws -> [RoundMicroBatch] {
        try position.microBatches.map { index in
            let round = try self.round(epoch: position.epoch, index: index / microStepsPerRound)
            let chunk = index % microStepsPerRound % stepsPerGeneration
            return RoundMicroBatch(completions: Array(round.rows[chunk * batchSize..<(chunk + 1) * batchSize]),
                                   generationBatchTokens: round.tokens, roundMetrics: round.metrics,
                                   endsStep: index == position.microBatches.upperBound - 1,
                                   noise: neftuneNoiseAlpha.map {
                                       NEFTuneNoise(alpha: Float($0), seed: mixedSeed(seed, UInt64(position.epoch), UInt64(index), NEFTunePass.loss.rawValue),
                                                    length: round.paddedLength)
                                   })
        }
    }

    private func round(epoch: Int, index: Int) throws -> Round {
        let key = [epoch, index]
        if let cached, cached.key == key { return cached }
        let order = promptOrder(epoch: epoch)
        let prompts = order[index * promptsPerRound..<(index + 1) * promptsPerRound].map { dataset.rows[$0] }
        let roundSeed = mixedSeed(seed, UInt64(epoch), UInt64(index))
        let rollout: GRPORollout
        if let dynamicSampling {
            let dataset = dataset, count = promptsPerRound
            rollout = try dynamicSampling.rollout(
                prompts, groupSize: generation.numGenerations, maker: maker,
                seed: { $0 == 0 ? roundSeed : mixedSeed(roundSeed, UInt64($0)) }, shuffleSeed: roundSeed ^ 0x5DEE_CE66_D1CE_4E5B,
                morePrompts: { batch in
                    var generator = SeededGenerator(seed: mixedSeed(roundSeed, UInt64(batch), 0xD1A0_5A3B))
                    return Array(dataset.rows.indices.shuffled(using: &generator).prefix(count)).map { dataset.rows[$0] }
                })
        } else {
            // The round's rows in TRL's shuffled order, or grouped by prompt (row numbers count prompt by
            // prompt); this process takes its contiguous share.
            var generator = SeededGenerator(seed: roundSeed ^ 0x5DEE_CE66_D1CE_4E5B)
            let rows = Array(0..<prompts.count * generation.numGenerations)
            let rowOrder = groupsRowsByPrompt ? rows : rows.shuffled(using: &generator)
            let share = rowOrder[communicator.rank * localRoundRows..<(communicator.rank + 1) * localRoundRows]
            rollout = try maker.rollout(prompts, groupSize: generation.numGenerations, seed: roundSeed, rows: Array(share))
        }
        let round = Round(key: key, rows: rollout.completions, tokens: rollout.generationBatchTokens, metrics: rollout.metrics,
                          logged: rollout.logged, paddedLength: rollout.paddedLength)
        cached = round
        return round
    }

    /// A generated round: its key (epoch, index), this process's rows, the round's loss tokens and
    /// metrics, the rows as the completion log records them and its padded length.
    private struct Round {
        let key: [Int]
        let rows: [GRPORollout.Completion]
        let tokens: Int
        let metrics: [String: Double]
        let logged: [LoggedCompletion]
        /// TRL's padded length of the round's passes (``GRPORollout/paddedLength``).
        let paddedLength: Int
    }

    /// The epoch's prompt order: shuffled with the seed and the epoch when `shuffle_dataset`.
    private func promptOrder(epoch: Int) -> [Int] {
        var order = Array(dataset.rows.indices)
        guard generation.shuffleDataset else { return order }
        var generator = SeededGenerator(seed: mixedSeed(seed, UInt64(epoch), 0x0DA7_A0DE))
        order.shuffle(using: &generator)
        return order
    }
}
