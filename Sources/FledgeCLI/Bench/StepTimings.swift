import Foundation
import FledgeRL

/// A training algorithm that forwards every call to `base` and times, for each optimizer step, its
/// `microBatches(for:)` (for GRPO: generation, rewards and advantages) and its losses' forward
/// passes (log-probs and the loss), so that a benchmark can split a step without touching the trainer.
final class TimedAlgorithm<Base: TrainingAlgorithm>: TrainingAlgorithm {
    typealias MicroBatch = Base.MicroBatch

    let base: Base
    /// Seconds in `microBatches(for:)`, one entry per step.
    private(set) var batchSeconds: [Double] = []
    /// Seconds in `loss(of:)` over the step's micro-batches, one entry per step.
    private(set) var lossSeconds: [Double] = []

    init(_ base: Base) {
        self.base = base
    }

    var microBatchesPerEpoch: Int { base.microBatchesPerEpoch }
    var lossScaling: LossScaling { base.lossScaling }
    var randomStates: [String: UInt64] { base.randomStates }

    func restoreRandomStates(_ states: [String: UInt64]) throws {
        try base.restoreRandomStates(states)
    }

    func microBatches(for position: StepPosition) throws -> [MicroBatch] {
        let start = DispatchTime.now().uptimeNanoseconds
        let batches = try base.microBatches(for: position)
        batchSeconds.append(Self.seconds(since: start))
        lossSeconds.append(0)
        return batches
    }

    func loss(of batch: MicroBatch) throws -> MicroBatchLoss {
        let start = DispatchTime.now().uptimeNanoseconds
        let loss = try base.loss(of: batch)
        lossSeconds[lossSeconds.count - 1] += Self.seconds(since: start)
        return loss
    }

    func evaluate() throws -> [String: Double]? {
        try base.evaluate()
    }

    private static func seconds(since start: UInt64) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}

/// Records the wall time of each optimizer step of a run: from one step's end to the next
/// (the first from the start of training).
final class StepClock: TrainingObserver {
    /// Seconds per step, in order.
    private(set) var stepSeconds: [Double] = []
    private var lastSeconds = 0.0

    func trainingWillStart(_ progress: StepProgress) {
        lastSeconds = progress.seconds
    }

    func trainingDidStep(_ progress: StepProgress) {
        stepSeconds.append(progress.seconds - lastSeconds)
        lastSeconds = progress.seconds
    }
}
