import FledgeLM
import FledgeTensor

/// Proximal Policy Optimization as TRL 1.12's `PPOTrainer` runs it, on the one trainer loop.
///
/// Each rollout samples a response to each of its prompts and scores them (``PPORolloutMaker``):
/// log-probs of the policy and the reference, the value model's estimates, the scores, then
/// rewards with the KL penalty, GAE advantages and returns (``PPOTargets``). It is trained on for
/// `num_ppo_epochs` shuffled epochs of `num_mini_batches` optimizer steps (``PPOGeometry``) with the
/// clipped policy and value losses (``PPOLoss``). Rollouts are a pure function of the seed, the pass
/// over the prompts and the rollout index (prompt order, sampling seed, epoch shuffles), so no
/// random state needs saving; a run resumed inside a rollout samples it again with the current weights.
public final class PPO: TrainingAlgorithm {
    /// Rows of one rollout that one forward/backward pass trains on.
    public struct MicroBatch {
        public let rollout: PPORolloutBatch
        public let rows: [Int]
    }

    public let models: PolicyAndValue
    public let dataset: PromptDataset
    public let config: PPOConfig
    public let geometry: PPOGeometry
    let rolloutMaker: PPORolloutMaker
    private let loss: PPOLoss
    private let seed: UInt64
    private var cachedRollout: (key: [Int], batch: PPORolloutBatch)?

    /// PPO of `models` on the prompts of `dataset`, scored by `scorer`, against `reference`, by default
    /// the policy with its adapters switched off; full fine-tuning needs one (``ReferencePolicy/of(_:)``).
    /// `tokenizer` is the policy's.
    public init(models: PolicyAndValue, tokenizer: Tokenizer, dataset: PromptDataset, scorer: PPOScorer, config: PPOConfig,
                reference: ReferencePolicy? = nil) throws {
        try config.checkRanges()
        let reference = try ReferencePolicy.resolve(
            reference, model: models.policy,
            missing: "PPO's KL penalty is measured against a reference policy, and a fully fine-tuned policy has no adapters "
                + "to switch off: pass one (ReferencePolicy.of(policy), a frozen copy), or use LoRA (use_peft: true)")
        geometry = try PPOGeometry(config: config, prompts: dataset.rows.count)
        try dataset.requirePromptsFit(model: models.policy, maxSeqLength: config.training.maxSeqLength,
                                      completionTokens: config.responseLength, completionField: "response_length")
        let eos = tokenizer.config.eosToken.flatMap { tokenizer.id(of: $0) }
        let stop: Int?
        switch (config.stopToken, config.stopTokenID) {
        case (.eos?, _):
            guard let eos else {
                throw TrainingError.invalidSetting("stop_token is eos, but the tokenizer has no eos_token; set stop_token_id")
            }
            stop = eos
        case (nil, let id): stop = id
        }
        let pad = tokenizer.config.padToken.flatMap { tokenizer.id(of: $0) } ?? models.policy.generationConfig.padTokenId ?? eos
        guard let pad else {
            throw TrainingError.invalidSetting("the tokenizer has neither a pad_token nor an eos_token; PPO pads responses with one")
        }
        if case .rewardModel(let model) = scorer, model.config.vocabSize != models.policy.config.vocabSize {
            throw TrainingError.invalidSetting("reward_model_path \(model.directory.path) has a vocabulary of \(model.config.vocabSize) "
                + "tokens and the policy \(models.policy.config.vocabSize): it scores the policy's token ids, so both must share "
                + "a tokenizer; to score the decoded text with the reward model's own tokenizer use reward_funcs: [\"model:DIR\"]")
        }
        self.models = models
        self.dataset = dataset
        self.config = config
        seed = UInt64(bitPattern: Int64(config.training.seed))
        loss = PPOLoss(settings: PPOSettings(config: config))
        rolloutMaker = PPORolloutMaker(
            policy: models.policy, value: models.value, reference: reference, tokenizer: tokenizer, scorer: scorer,
            settings: PPOSettings(config: config), responseLength: config.responseLength, temperature: config.temperature,
            stopTokenID: stop, eosTokenID: eos, padTokenID: pad, missingEOSPenalty: config.missingEOSPenalty,
            forwardBatchSize: Swift.max(config.localRolloutForwardBatchSize, 1))
    }

    /// `config.training` with PPO's step geometry: `gradient_accumulation_steps` is the micro-batches
    /// of one mini-batch, and `total_episodes`, when set, fixes `max_steps` (one optimizer step per
    /// mini-batch of each PPO epoch of each rollout of `total_episodes / rollout size`, rounded up).
    public var trainingArguments: TrainingArguments {
        var arguments = config.training
        arguments.gradientAccumulationSteps = geometry.microBatchesPerStep
        if let episodes = config.totalEpisodes {
            arguments.maxSteps = (episodes + geometry.rolloutSize - 1) / geometry.rolloutSize * geometry.stepsPerRollout
        }
        return arguments
    }

    public var microBatchesPerEpoch: Int { geometry.rolloutsPerEpoch * geometry.microBatchesPerRollout }

    public var lossScaling: LossScaling { .perMicroBatch }

    public func microBatches(for position: StepPosition) throws -> [MicroBatch] {
        try position.microBatches.map { index in
            let place = geometry.locate(index)
            let batch = try rollout(epoch: position.epoch, index: place.rollout)
            let order = EpochOrder.shuffled(count: geometry.rolloutSize, seed: mixedSeed(seed, UInt64(position.epoch), UInt64(place.rollout)),
                                            epoch: place.ppoEpoch)
            let miniBatch = order[(place.miniBatch * geometry.miniBatchSize)..<((place.miniBatch + 1) * geometry.miniBatchSize)]
            return MicroBatch(rollout: batch, rows: Array(miniBatch.dropFirst(place.rows.lowerBound).prefix(place.rows.count)))
        }
    }

    public func loss(of batch: MicroBatch) throws -> MicroBatchLoss {
        let rows = batch.rows.map { batch.rollout.rows[$0] }
        let width = config.responseLength
        let sequences = rows.map { $0.promptIds + $0.responseIds }
        let counts = rows.map(\.responseIds.count), valueCounts = counts.map { min($0 + 1, width) }
        let scored = models.policy.sequenceLogProbs(sequences, scoredFrom: rows.map(\.promptIds.count),
                                                    temperature: Float(config.temperature + 1e-7), withEntropy: true)
        let values = models.value.positionScores(
            zip(rows, valueCounts).map { row, count in Array((row.promptIds + row.responseIds).prefix(row.promptIds.count - 1 + count)) },
            from: rows.map { $0.promptIds.count - 1 })
        let result = loss.compute(logProbs: TokenRows(counts: counts, width: width).grid(scored.logProbs),
                                  valuePredictions: TokenRows(counts: valueCounts, width: width).grid(values),
                                  targets: batch.rollout.targets.rows(batch.rows))
        var metrics = batch.rollout.metrics.merging(result.metrics) { $1 }
        let tokens = counts.reduce(0, +)
        metrics["policy/entropy_avg"] = tokens > 0 ? Double(scored.entropy!.detached().sum().item()) / Double(tokens) : 0
        return MicroBatchLoss(loss: result.loss, metrics: metrics, tokens: sequences.reduce(0) { $0 + $1.count })
    }

    /// Rollout `index` of pass `epoch` over the prompts, sampled on first use (only the current one is kept).
    private func rollout(epoch: Int, index: Int) throws -> PPORolloutBatch {
        let key = [epoch, index]
        if let cachedRollout, cachedRollout.key == key { return cachedRollout.batch }
        let order = EpochOrder.shuffled(count: dataset.rows.count, seed: seed, epoch: epoch)
        let prompts = order[(index * geometry.rolloutSize)..<((index + 1) * geometry.rolloutSize)].map { dataset.rows[$0] }
        let batch = try rolloutMaker.rollout(prompts, seed: mixedSeed(seed, UInt64(epoch), UInt64(index), 0x5EED))
        cachedRollout = (key, batch)
        return batch
    }
}
