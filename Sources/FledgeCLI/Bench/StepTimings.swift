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
    /// CPU seconds (user + system, all threads) in `microBatches(for:)`, one entry per step.
    private(set) var batchCPUSeconds: [Double] = []
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
        let start = DispatchTime.now().uptimeNanoseconds, startCPU = processCPUSeconds()
        let batches = try base.microBatches(for: position)
        batchSeconds.append(Self.seconds(since: start))
        batchCPUSeconds.append(processCPUSeconds() - startCPU)
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

/// Records the wall time and the process's CPU time of each optimizer step of a run: from one
/// step's end to the next (the first from the start of training).
final class StepClock: TrainingObserver {
    /// Seconds per step, in order.
    private(set) var stepSeconds: [Double] = []
    /// CPU seconds (user + system, all threads) per step, in order.
    private(set) var stepCPUSeconds: [Double] = []
    private var lastSeconds = 0.0, lastCPUSeconds = 0.0

    func trainingWillStart(_ progress: StepProgress) {
        lastSeconds = progress.seconds
        lastCPUSeconds = processCPUSeconds()
    }

    func trainingDidStep(_ progress: StepProgress) {
        let cpu = processCPUSeconds()
        stepSeconds.append(progress.seconds - lastSeconds)
        stepCPUSeconds.append(cpu - lastCPUSeconds)
        lastSeconds = progress.seconds
        lastCPUSeconds = cpu
    }
}
