import Foundation
import FledgeTensor

/// What an algorithm (SFT, GRPO, DPO, PPO) gives the one ``Trainer`` loop: the micro-batches of each
/// optimizer step, and a differentiable loss with metrics for each micro-batch.
///
/// The trainer owns everything else: gradient accumulation, clipping, the optimizer and schedule,
/// logging, evaluation, checkpoints and progress. An algorithm never calls `backward()` itself.
public protocol TrainingAlgorithm: RandomStateCarrying {
    /// One forward/backward pass worth of data (rows, or completions with their advantages).
    associatedtype MicroBatch

    /// Micro-batches in one pass over the training data (the HF Trainer's `len(train_dataloader)`);
    /// it fixes the steps per epoch and the `epoch` that is logged.
    var microBatchesPerEpoch: Int { get }

    /// How each micro-batch's loss relates to the optimizer step's objective.
    var lossScaling: LossScaling { get }

    /// The micro-batches of one optimizer step, in order. Called once per step before any loss, so
    /// work that serves the whole step (GRPO's generation, a token count over every micro-batch)
    /// belongs here. `position` names the step and the micro-batches of the epoch it covers; a step
    /// must return exactly `position.microBatches.count` batches.
    func microBatches(for position: StepPosition) throws -> [MicroBatch]

    /// The loss of one micro-batch (a single-element tensor with autograd, or a constant for an
    /// empty micro-batch) and its metrics.
    func loss(of batch: MicroBatch) throws -> MicroBatchLoss

    /// Metrics over held-out data, logged with an `eval_` prefix; `nil` when the algorithm has no
    /// evaluation data. Every process evaluates (on the same weights, so with the same result).
    func evaluate() throws -> [String: Double]?

    /// The completions to record at a logging step (`completions.jsonl`): GRPO's and RLOO's latest
    /// generation round with `log_completions`; nil when the algorithm logs none.
    var completionLog: CompletionLog? { get }

    /// Told after each optimizer step (`globalStep` counts it), before logging and checkpoints: where
    /// an algorithm updates state of its own between steps (a reference model synced toward the policy).
    func stepDidFinish(globalStep: Int) throws

    /// Writes state of the algorithm's own that a checkpoint must keep besides weights, optimizer and
    /// generator states (a synced reference model) into the checkpoint `directory`; the primary process calls it.
    func saveState(to directory: URL) throws

    /// Reads what ``saveState(to:)`` wrote, when resuming from the checkpoint `directory`.
    func loadState(from directory: URL) throws

    /// The processes the algorithm splits each step's data over; the trainer averages gradients
    /// and combines losses and metrics over them. Each process's micro-batches are its own share
    /// (a `.wholeStep` loss normalises by a count over all processes and multiplies by their number,
    /// as the averaging divides by it). ``SingleProcess`` unless the algorithm supports data-parallel runs.
    var communicator: any Communicator { get }
}

extension TrainingAlgorithm {
    /// No evaluation unless the algorithm provides one.
    public func evaluate() throws -> [String: Double]? { nil }

    /// No completion log unless the algorithm keeps one.
    public var completionLog: CompletionLog? { nil }

    /// Nothing to do between steps unless the algorithm keeps state that moves.
    public func stepDidFinish(globalStep: Int) throws {}

    /// No state of its own to save unless the algorithm keeps some.
    public func saveState(to directory: URL) throws {}

    /// No state of its own to load unless the algorithm keeps some.
    public func loadState(from directory: URL) throws {}

    /// One process unless the algorithm splits its data.
    public var communicator: any Communicator { SingleProcess() }

    /// No generator state unless the algorithm keeps one of its own (the models and datasets it
    /// trains on carry theirs).
    public var randomStates: [String: UInt64] { [:] }

    /// Nothing to restore unless the algorithm keeps generator state of its own.
    public func restoreRandomStates(_ states: [String: UInt64]) throws {}
}

/// How the trainer scales micro-batch losses before `backward()`, as the HF Trainer does.
public enum LossScaling: Sendable {
    /// Each loss is a mean over its own micro-batch; the trainer divides it by the number of
    /// micro-batches in the step (HF's division by `gradient_accumulation_steps`).
    case perMicroBatch
    /// Each loss is already normalised over the whole optimizer step (HF's `num_items_in_batch`:
    /// SFT's token mean over every micro-batch of the step; GRPO's `dapo` over the generation
    /// batch); the trainer adds the gradients as they are.
    case wholeStep
}

/// Where an optimizer step falls in the training data.
public struct StepPosition: Sendable, Equatable {
    /// Optimizer steps completed before this one (0 for the first step).
    public let step: Int
    /// The pass over the data this step belongs to (0-based).
    public let epoch: Int
    /// The micro-batches of `epoch` this step consumes; the last step of an epoch may have fewer
    /// than `gradient_accumulation_steps`.
    public let microBatches: Range<Int>

    public init(step: Int, epoch: Int, microBatches: Range<Int>) {
        self.step = step
        self.epoch = epoch
        self.microBatches = microBatches
    }
}

/// The loss of one micro-batch and what to log about it.
public struct MicroBatchLoss {
    /// A single-element tensor with autograd.
    public var loss: Tensor
    /// Metrics under TRL's names (slashes allowed, e.g. `rewards/correct/mean`); the trainer logs
    /// their mean over the micro-batches since the last log.
    public var metrics: [String: Double]
    /// Input tokens the micro-batch ran through the model (for `num_tokens` and tokens per second).
    public var tokens: Int
    /// Whether the loss is a constant standing for a gradient of exactly zero with respect to every
    /// trainable parameter (a micro-batch whose every row was skipped as zero-signal): the trainer
    /// gives each parameter without a gradient a zero one, so the optimizer steps as it would after
    /// running the rows (weight decay and the moments' decay still apply).
    public var gradientIsExactlyZero: Bool

    public init(loss: Tensor, metrics: [String: Double] = [:], tokens: Int, gradientIsExactlyZero: Bool = false) {
        self.loss = loss
        self.metrics = metrics
        self.tokens = tokens
        self.gradientIsExactlyZero = gradientIsExactlyZero
    }
}

/// Something whose random generators must continue exactly after a resume (data order, dropout,
/// sampling): their states are saved in a checkpoint's `rng_state.json`.
public protocol RandomStateCarrying: AnyObject {
    /// The states of the generators, by a name unique within the run.
    var randomStates: [String: UInt64] { get }
    /// Restores states saved from `randomStates`; throws when one is missing.
    func restoreRandomStates(_ states: [String: UInt64]) throws
}
