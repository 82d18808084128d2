import Foundation
import FledgeLM
import FledgeTensor

/// REINFORCE Leave-One-Out as TRL's current `RLOOTrainer` runs it: GRPO's generation rounds and
/// rewards (``GenerationRounds``), the leave-one-out baseline with the sequence KL in the reward
/// (``RLOOAdvantages``), and the clipped sequence-ratio loss (``RLOOLoss``), a mean over each
/// micro-batch's completions that the trainer averages over the step (HF's division by
/// `gradient_accumulation_steps`).
///
/// With a `toolbox` (`tools`, `environment_command`; a Fledge departure: TRL 1.16's `RLOOTrainer` has no tools)
/// each row is a multi-turn episode as GRPO runs them (``AgentRollouts``), and the tool-result tokens are left out
/// of every sum RLOO takes over a completion — its sequence log-probability in the ratio, the old and reference
/// log-probabilities of the KL in the reward, the entropy and the lengths — as GRPO's `tool_mask` leaves them out of
/// GRPO's.
public final class RLOO: TrainingAlgorithm, ReferenceSyncing {
    /// Rows of one micro-step, with the round's metrics.
    public typealias MicroBatch = RoundMicroBatch

    public let model: LanguageModel
    public let dataset: PromptDataset
    public let config: RLOOConfig
    private let rounds: GenerationRounds
    private let loss: RLOOLoss
    private let evaluation: GroupSamplingEvaluation?
    /// The reference model's syncing toward the policy (`sync_ref_model`), or nil.
    public let referenceSync: ReferenceSync?

    /// RLOO of `model` on `dataset` with `rewards`. With `beta` ≠ 0 the KL in the reward is measured
    /// against `reference`, by default the model with its adapters switched off; full fine-tuning
    /// needs one (``ReferencePolicy/of(_:)``). With an
    /// `evaluationDataset`, `eval_strategy` evaluates on it (``GroupSamplingEvaluation``). With a `toolbox` (tools,
    /// an environment) each row is a multi-turn episode; an environment's rewards join `rewards` as the function
    /// `environment`.
    public init(model: LanguageModel, tokenizer: Tokenizer, dataset: PromptDataset, rewards: [any RewardFunction],
                config: RLOOConfig, reference: ReferencePolicy? = nil, evaluationDataset: PromptDataset? = nil,
                toolbox: Toolbox? = nil) throws {
        try config.checkRanges()
        let generation = config.generation
        let reference = try ReferencePolicy.resolve(
            reference, model: model, needed: generation.beta != 0,
            missing: "beta is \(generation.beta) with full fine-tuning: the KL in the reward needs a "
                + "reference model; pass one, use LoRA (use_peft: true), or set beta: 0")
        self.model = model
        self.dataset = dataset
        self.config = config
        loss = RLOOLoss(config: config)
        referenceSync = try ReferenceSync(policy: model, reference: reference, arguments: config.referenceSync)
        var rewards = rewards
        let agents = try AgentRollouts.forTrainer(toolbox: toolbox, arguments: config.agent, tokenizer: tokenizer, model: model,
                                                  generation: generation, rewards: &rewards)
        let estimator = RLOOEstimator(
            advantages: RLOOAdvantages(config: config),
            rewards: try GroupRewards(functionNames: rewards.map(\.name), rewardWeights: generation.rewardWeights,
                                      groupSize: generation.numGenerations))
        rounds = try GenerationRounds(model: model, tokenizer: tokenizer, dataset: dataset, rewards: rewards, advantages: estimator,
                                      generation: generation, training: config.training, reference: reference,
                                      needsOldLogProbs: true, needsReferenceLogProbs: generation.beta != 0,
                                      // The loss is a mean over micro-batches of equal row counts.
                                      lossIsRowSeparable: true, agents: agents)
        let sampling = rounds.maker.sampling
        evaluation = try evaluationDataset.map {
            try GroupSamplingEvaluation(model: model, tokenizer: tokenizer, dataset: $0, rewards: rewards, generation: generation,
                                        training: config.training, scaleRewards: .group, sampling: sampling, agents: agents)
        }
    }

    /// TRL's generation and reward metrics over the evaluation dataset; nil without one.
    public func evaluate() throws -> [String: Double]? { try evaluation?.evaluate() }

    public var microBatchesPerEpoch: Int { rounds.microBatchesPerEpoch }

    public var completionLog: CompletionLog? { rounds.completionLog }

    public var lossScaling: LossScaling { .perMicroBatch }

    public func microBatches(for position: StepPosition) throws -> [MicroBatch] {
        try rounds.microBatches(for: position)
    }

    public func loss(of batch: MicroBatch) throws -> MicroBatchLoss {
        let rows = batch.completions
        // The KL is in the reward (so in the advantage): a zero-advantage row adds exactly nothing.
        let skipping = ZeroSignalRows(rows, model: model, mode: config.generation.skipZeroSignalRows, zeroAdvantageIsExact: true)
        let scored = skipping.scored(batch, by: model, temperature: config.generation.temperature,
                                     sharingPrefixes: config.generation.sharePromptInTraining) { $0.oldLogProbs }
        let oldSums = RLOOAdvantages.sequenceSums(rows.filter(\.inLoss).flatMap { $0.oldLogProbs! }.map(Double.init),
                                                  counts: scored.counts)
        let result = loss.compute(logProbs: scored.logProbs, counts: scored.counts, oldSequenceLogProbs: oldSums.map(Float.init),
                                  advantages: rows.map(\.advantage), entropies: scored.entropies?.toArray())
        var metrics = batch.roundMetrics.merging(result.metrics) { $1 }
        metrics["frac_skipped_rows"] = skipping.skippedFraction
        return MicroBatchLoss(loss: result.loss, metrics: metrics, tokens: batch.inputTokens,
                              gradientIsExactlyZero: skipping.skipsEveryRow)
    }
}
