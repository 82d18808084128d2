import Foundation
@testable import FledgeRL

/// A one-tensor model and a least-squares "algorithm" over it: fast, and able to produce a NaN
/// loss on demand, for tests of the loop itself.
final class QuadraticModel: TrainableModel {
    let weight = Tensor(shape: [2, 3], values: [0.5, -1, 2, 0.25, 1.5, -0.75])

    init() { weight.requiresGrad = true }

    var trainableParameters: [Parameter] { [Parameter(name: "weight", tensor: weight)] }

    func saveTrainedWeights(to directory: URL) throws {
        try SafeTensorsWriter.write([("weight", weight)], to: directory.appendingPathComponent("weights.safetensors"))
    }

    func loadTrainedWeights(from directory: URL) throws {
        let saved = try SafeTensorsFile(url: directory.appendingPathComponent("weights.safetensors")).tensor("weight").toArray()
        weight.withUnsafeMutableElements { values in for i in values.indices { values[i] = saved[i] } }
    }

    var randomStates: [String: UInt64] { [:] }
    func restoreRandomStates(_ states: [String: UInt64]) throws {}
}

final class QuadraticAlgorithm: TrainingAlgorithm {
    struct MicroBatch { let step: Int }

    let model: QuadraticModel
    /// The step (1-based) whose loss is NaN, if any.
    var nanAtStep: Int?
    /// Whether the algorithm has an evaluation (the squared distance to the target), and how often it ran.
    var evaluates = false
    private(set) var evaluationCount = 0
    let target = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])

    init(model: QuadraticModel, nanAtStep: Int? = nil) {
        self.model = model
        self.nanAtStep = nanAtStep
    }

    var microBatchesPerEpoch: Int { 4 }
    var lossScaling: LossScaling { .perMicroBatch }
    var randomStates: [String: UInt64] { [:] }
    func restoreRandomStates(_ states: [String: UInt64]) throws {}

    func microBatches(for position: StepPosition) throws -> [MicroBatch] {
        position.microBatches.map { _ in MicroBatch(step: position.step + 1) }
    }

    func evaluate() throws -> [String: Double]? {
        guard evaluates else { return nil }
        evaluationCount += 1
        let difference = model.weight - target
        return ["distance": Double((difference * difference).sum().item())]
    }

    func loss(of batch: MicroBatch) throws -> MicroBatchLoss {
        let difference = model.weight - target
        var loss = (difference * difference).sum()
        if batch.step == nanAtStep { loss = loss * Float.nan }
        return MicroBatchLoss(loss: loss, metrics: ["distance": Double(loss.item())], tokens: 6)
    }
}
