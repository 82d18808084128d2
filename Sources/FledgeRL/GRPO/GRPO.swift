import Foundation
import FledgeLM
import FledgeTensor

/// Group Relative Policy Optimization as TRL's `GRPOTrainer` runs it: generation rounds with TRL's
/// batch geometry (``GenerationRounds``), group-normalised advantages (``GRPOAdvantages``) and every
/// loss type (``GRPOLoss``). The loss already carries TRL's gradient-accumulation scaling, so the
/// trainer adds micro-batch gradients as they are.
///
/// Over several processes (`communicator`), each process generates and scores its share of every
/// round (``GenerationRounds``) and `dapo`'s normaliser counts the round's tokens on every process,
/// so `N` processes train exactly as one process with `N` times the gradient accumulation.
public final class GRPO: TrainingAlgorithm, ReferenceSyncing {
    /// Rows of one micro-step, with the round's token count and metrics.
    public typealias MicroBatch = RoundMicroBatch

    public let model: LanguageModel
    public let dataset: PromptDataset
    public let config: GRPOConfig
    public let communicator: any Communicator
    private let rounds: GenerationRounds
    private let loss: GRPOLoss
    private let entropyControl: EntropyBonusControl
    /// The reference model's syncing toward the policy (`sync_ref_model`), or nil.
    public let referenceSync: ReferenceSync?
    private let evaluation: GroupSamplingEvaluation?

    /// GRPO of `model` on `dataset` with `rewards`. With `beta` ≠ 0 the KL term is measured against
    /// `reference`, by default the model with its adapters switched off; full fine-tuning needs one
    /// (``ReferencePolicy/of(_:)``). With a `communicator` of several processes, each process runs
    /// this with the same arguments. With
    /// `ignoreEOS` every completion runs to `max_completion_length` whatever it samples (for
    /// benchmarks; TRL's equivalent is `generation_kwargs={"min_new_tokens": max_completion_length}`). With a
    /// `toolbox` (tools, an environment) each row is a multi-turn episode (``AgentRollouts``); an environment's
    /// rewards join `rewards` as the function `environment`. With an `evaluationDataset`, `eval_strategy`
    /// evaluates on it (``GroupSamplingEvaluation``; episodes too, with a `toolbox`).
    public init(model: LanguageModel, tokenizer: Tokenizer, dataset: PromptDataset, rewards: [any RewardFunction],
                config: GRPOConfig, reference: ReferencePolicy? = nil, communicator: any Communicator = SingleProcess(),
                ignoreEOS: Bool = false, evaluationDataset: PromptDataset? = nil, toolbox: Toolbox? = nil) throws {
        try config.checkRanges()
        let generation = config.generation, training = config.training
        let beta = generation.beta
        let reference = try ReferencePolicy.resolve(
            reference, model: model, needed: beta != 0,
            missing: "beta is \(beta) with full fine-tuning: the KL term needs a reference model; "
                + "pass one, use LoRA (use_peft: true), or set beta: 0")
        let stepsPerGeneration = generation.stepsPerGeneration ?? training.gradientAccumulationSteps
        let offPolicy = training.gradientAccumulationSteps % (stepsPerGeneration * generation.numIterations) != 0
        self.model = model
        self.dataset = dataset
        self.config = config
        self.communicator = communicator
        var lossSettings = GRPOLossSettings(config: config)
        lossSettings.processCount = communicator.size
        loss = GRPOLoss(settings: lossSettings)
        entropyControl = EntropyBonusControl(config: config)
        referenceSync = try ReferenceSync(policy: model, reference: reference, arguments: config.referenceSync)
        var rewards = rewards
        let agents = try AgentRollouts.forTrainer(toolbox: toolbox, arguments: config.agent, tokenizer: tokenizer, model: model,
                                                  generation: generation, rewards: &rewards)
        rounds = try GenerationRounds(
            model: model, tokenizer: tokenizer, dataset: dataset, rewards: rewards,
            advantages: try GRPOAdvantages(functionNames: rewards.map(\.name), rewardWeights: generation.rewardWeights,
                                           groupSize: generation.numGenerations, scaleRewards: config.scaleRewards,
                                           aggregation: config.multiObjectiveAggregation),
            generation: generation, training: training, reference: reference, ignoreEOS: ignoreEOS, needsOldLogProbs: offPolicy,
            needsReferenceLogProbs: beta != 0, lossIsRowSeparable: Self.lossIsRowSeparable(lossSettings),
            communicator: communicator, agents: agents)
        let sampling = rounds.maker.sampling
        evaluation = try evaluationDataset.map {
            try GroupSamplingEvaluation(model: model, tokenizer: tokenizer, dataset: $0, rewards: rewards, generation: generation,
                                        training: training, scaleRewards: config.scaleRewards, sampling: sampling,
                                        agents: agents)
        }
    }

    /// Whether a step's loss under `settings` is a sum of per-row terms over normalisers that do not
    /// depend on which rows share a micro-batch: every loss type but `bnpo` (the micro-batch's
    /// tokens) when no entropy mask takes a quantile over the micro-batch and no entropy bonus
    /// averages over its tokens.
    static func lossIsRowSeparable(_ settings: GRPOLossSettings) -> Bool {
        settings.lossType != .bnpo && settings.topEntropyQuantile >= 1 && !settings.hasEntropyBonus
    }

    /// TRL's generation and reward metrics over the evaluation dataset; nil without one.
    public func evaluate() throws -> [String: Double]? { try evaluation?.evaluate() }

    public var microBatchesPerEpoch: Int { rounds.microBatchesPerEpoch }

    /// Adaptive entropy control's coefficient and last step entropy (nothing else: rounds are pure
    /// functions of seed, epoch and index).
    public var randomStates: [String: UInt64] { entropyControl.states }

    public func restoreRandomStates(_ states: [String: UInt64]) throws { try entropyControl.restore(states) }

    public var completionLog: CompletionLog? { rounds.completionLog }

    public var lossScaling: LossScaling { .wholeStep }

    public func microBatches(for position: StepPosition) throws -> [MicroBatch] {
        try rounds.microBatches(for: position)
    }

    public func loss(of batch: MicroBatch) throws -> MicroBatchLoss {
        let rows = batch.completions
        let settings = loss.settings
        let skipping = ZeroSignalRows(rows, model: model, mode: config.generation.skipZeroSignalRows, zeroAdvantageIsExact: settings.beta == 0,
                                      canSkipZeroAdvantage: settings.topEntropyQuantile >= 1 && !settings.hasEntropyBonus)
        let maker = rounds.maker
        let scored = skipping.scored(batch, by: model, temperature: config.generation.temperature,
                                     sharingPrefixes: config.generation.sharePromptInTraining) { row in
            maker.needsReferenceLogProbs ? row.referenceLogProbs : row.oldLogProbs
        }
        let inLoss = rows.filter(\.inLoss)
        let result = loss.compute(GRPOLossBatch(
            logProbs: scored.logProbs, counts: scored.counts, advantages: rows.map(\.advantage),
            oldLogProbs: maker.needsOldLogProbs ? inLoss.flatMap { $0.oldLogProbs! } : nil,
            referenceLogProbs: maker.needsReferenceLogProbs ? inLoss.flatMap { $0.referenceLogProbs! } : nil,
            entropies: scored.entropies, generationBatchTokens: batch.generationBatchTokens),
            entropyCoefficient: entropyControl.appliedCoefficient)
        var metrics = batch.roundMetrics.merging(result.metrics) { $1 }
        if entropyControl.isAdaptive {
            // TRL logs the coefficient once per optimizer step, after the step's update.
            entropyControl.record(result.entropyWindow)
            metrics["entropy_coef"] = nil
            if batch.endsStep {
                try entropyControl.finishStep(over: communicator, step: "a GRPO optimizer step")
                metrics["entropy_coef"] = entropyControl.coefficient
            }
        }
        metrics["frac_skipped_rows"] = skipping.skippedFraction
        return MicroBatchLoss(loss: result.loss, metrics: metrics, tokens: batch.inputTokens,
                              gradientIsExactlyZero: skipping.skipsEveryRow)
    }
}
