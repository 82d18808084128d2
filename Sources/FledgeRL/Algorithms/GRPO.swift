import FledgeLM
import FledgeTensor

/// Group Relative Policy Optimization as TRL's `GRPOTrainer` runs it.
///
/// Batch geometry (TRL's `RepeatSampler` and `_prepare_inputs`): each generation round takes
/// `per_device_train_batch_size · steps_per_generation / num_generations` prompts of the epoch's
/// order, samples `num_generations` completions of each, scores them and computes advantages;
/// the round's rows are shuffled and split into `steps_per_generation` micro-batches, and the round
/// is used for `steps_per_generation · num_iterations` micro-steps. The loss (``GRPOLoss``) already
/// carries TRL's gradient-accumulation scaling, so the trainer adds micro-batch gradients as they are.
///
/// Rounds are a pure function of the seed, the epoch and the round index (prompt order, sampling
/// seed, row shuffle), so no random state needs saving; a run resumed at a step boundary that falls
/// inside a round (`num_iterations` > 1 with checkpoints mid-round) regenerates the round with the
/// current weights.
public final class GRPO: TrainingAlgorithm {
    /// Rows of one micro-step, with the round's token count and metrics.
    public struct MicroBatch {
        public let completions: [GRPORollout.Completion]
        public let generationBatchTokens: Int
        public let roundMetrics: [String: Double]
    }

    public let model: LanguageModel
    public let dataset: PromptDataset
    public let config: GRPOConfig
    private let rolloutMaker: GRPORolloutMaker
    private let loss: GRPOLoss
    private let seed: UInt64
    private var cachedRound: (key: RoundKey, rows: [GRPORollout.Completion], tokens: Int, metrics: [String: Double])?

    private struct RoundKey: Equatable {
        let epoch: Int
        let round: Int
    }

    /// GRPO of `model` on `dataset` with `rewards`. With `beta` ≠ 0 the reference policy is the model
    /// with its adapters switched off, or `reference` (a frozen model) for full fine-tuning. With
    /// `ignoreEOS` every completion runs to `max_completion_length` whatever it samples (for
    /// benchmarks; TRL's equivalent is `generation_kwargs={"min_new_tokens": max_completion_length}`).
    public init(model: LanguageModel, tokenizer: Tokenizer, dataset: PromptDataset, rewards: [any RewardFunction],
                config: GRPOConfig, reference: LanguageModel? = nil, ignoreEOS: Bool = false) throws {
        let generation = config.generation, training = config.training
        let groupSize = generation.numGenerations
        let stepsPerGeneration = generation.stepsPerGeneration ?? training.gradientAccumulationSteps
        let roundRows = training.perDeviceTrainBatchSize * stepsPerGeneration
        guard groupSize >= 2, roundRows % groupSize == 0 else {
            throw TrainingError.invalidSetting("per_device_train_batch_size × steps_per_generation (\(roundRows)) must be a "
                + "multiple of num_generations (\(groupSize)), which must be at least 2")
        }
        guard dataset.rows.count >= roundRows / groupSize else {
            throw TrainingError.invalidSetting("\(dataset.file.path) has \(dataset.rows.count) prompts, fewer than the "
                + "\(roundRows / groupSize) one generation round needs; add prompts or lower per_device_train_batch_size")
        }
        let beta = generation.beta
        if beta != 0 && !model.hasAdapters && reference == nil {
            throw TrainingError.invalidSetting("beta is \(beta) with full fine-tuning: the KL term needs a reference model; "
                + "pass one, use LoRA (use_peft: true), or set beta: 0")
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
        sampling.ignoreEOS = ignoreEOS
        if (sampling.eosTokenIds ?? model.generationConfig.eosTokenIds).isEmpty, let eos { sampling.eosTokenIds = [eos] }
        let offPolicy = training.gradientAccumulationSteps % (stepsPerGeneration * generation.numIterations) != 0
        self.model = model
        self.dataset = dataset
        self.config = config
        seed = UInt64(bitPattern: Int64(training.seed))
        loss = GRPOLoss(config: config)
        rolloutMaker = GRPORolloutMaker(
            model: model, reference: reference, tokenizer: tokenizer, rewards: rewards,
            advantages: try GRPOAdvantages(functionNames: rewards.map(\.name), rewardWeights: generation.rewardWeights,
                                           groupSize: groupSize, scaleRewards: config.scaleRewards),
            sampling: sampling, temperature: Float(generation.temperature), maskTruncated: generation.maskTruncatedCompletions,
            needsOldLogProbs: offPolicy, needsReferenceLogProbs: beta != 0,
            scoringBatchSize: training.perDeviceTrainBatchSize)
    }

    private var stepsPerGeneration: Int {
        config.generation.stepsPerGeneration ?? config.training.gradientAccumulationSteps
    }
    private var batchSize: Int { config.training.perDeviceTrainBatchSize }
    private var promptsPerRound: Int { batchSize * stepsPerGeneration / config.generation.numGenerations }
    private var roundsPerEpoch: Int { dataset.rows.count / promptsPerRound }
    private var microStepsPerRound: Int { stepsPerGeneration * config.generation.numIterations }

    public var microBatchesPerEpoch: Int { roundsPerEpoch * microStepsPerRound }

    public var lossScaling: LossScaling { .wholeStep }

    public var randomStates: [String: UInt64] { [:] }

    public func restoreRandomStates(_ states: [String: UInt64]) throws {}

    public func microBatches(for position: StepPosition) throws -> [MicroBatch] {
        try position.microBatches.map { index in
            let key = RoundKey(epoch: position.epoch, round: index / microStepsPerRound)
            let round = try self.round(key)
            let chunk = index % microStepsPerRound % stepsPerGeneration
            return MicroBatch(completions: Array(round.rows[chunk * batchSize..<(chunk + 1) * batchSize]),
                              generationBatchTokens: round.tokens, roundMetrics: round.metrics)
        }
    }

    public func loss(of batch: MicroBatch) throws -> MicroBatchLoss {
        let rows = batch.completions
        let scored = model.sequenceLogProbs(
            rows.map { $0.promptIds + $0.completionIds },
            scoredFrom: rows.map { $0.inLoss ? $0.promptIds.count : $0.promptIds.count + $0.completionIds.count },
            temperature: Float(config.generation.temperature), withEntropy: true)
        let inLoss = rows.filter(\.inLoss)
        let result = loss.compute(GRPOLossBatch(
            scored, advantages: rows.map(\.advantage),
            oldLogProbs: rolloutMaker.needsOldLogProbs ? inLoss.flatMap { $0.oldLogProbs! } : nil,
            referenceLogProbs: rolloutMaker.needsReferenceLogProbs ? inLoss.flatMap { $0.referenceLogProbs! } : nil,
            generationBatchTokens: batch.generationBatchTokens))
        let tokens = rows.reduce(0) { $0 + $1.promptIds.count + $1.completionIds.count }
        return MicroBatchLoss(loss: result.loss, metrics: batch.roundMetrics.merging(result.metrics) { $1 }, tokens: tokens)
    }

    /// The round `key`, generated on first use (only the current round is kept).
    private func round(_ key: RoundKey) throws -> (key: RoundKey, rows: [GRPORollout.Completion], tokens: Int, metrics: [String: Double]) {
        if let cachedRound, cachedRound.key == key { return cachedRound }
        let order = promptOrder(epoch: key.epoch)
        let prompts = order[key.round * promptsPerRound..<(key.round + 1) * promptsPerRound].map { dataset.rows[$0] }
        let roundSeed = mix(seed, UInt64(key.epoch), UInt64(key.round))
        let rollout = try rolloutMaker.rollout(prompts, groupSize: config.generation.numGenerations, seed: roundSeed)
        var generator = SeededGenerator(seed: roundSeed ^ 0x5DEE_CE66_D1CE_4E5B)
        let rows = rollout.completions.shuffled(using: &generator)
        let round = (key: key, rows: rows, tokens: rollout.generationBatchTokens, metrics: rollout.metrics)
        cachedRound = round
        return round
    }

    /// The epoch's prompt order: shuffled with the seed and the epoch when `shuffle_dataset`.
    private func promptOrder(epoch: Int) -> [Int] {
        var order = Array(dataset.rows.indices)
        guard config.generation.shuffleDataset else { return order }
        var generator = SeededGenerator(seed: mix(seed, UInt64(epoch), 0x0DA7_A0DE))
        order.shuffle(using: &generator)
        return order
    }

    private func mix(_ values: UInt64...) -> UInt64 {
        var generator = SeededGenerator(seed: values.reduce(0x243F_6A88_85A3_08D3) { ($0 ^ $1) &* 0x9E37_79B9_7F4A_7C15 })
        return generator.next()
    }
}
