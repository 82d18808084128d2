import Foundation
import FledgeNN
import FledgeTensor

/// What the one trainer loop does across the processes of a data-parallel run; with one process
/// every method returns at once and changes nothing.
///
/// Each process runs the same steps on its share of the data. After the backward passes the
/// gradients are averaged (so every process applies the same optimizer step to the same weights);
/// the step's loss is averaged and its tokens summed, as the HF Trainer reports them; a stop
/// requested on any process stops all; the weights are compared at the start and at every log.
struct DataParallelSteps {
    let communicator: any Communicator
    private let gradients: GradientAverager

    init(communicator: any Communicator, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.communicator = communicator
        gradients = try GradientAverager(communicator: communicator, environment: environment)
    }

    /// Whether this process writes the run's files.
    var isPrimary: Bool { communicator.isPrimary }

    /// Replaces every gradient by its mean over the processes.
    func averageGradients(_ parameters: [Parameter], step: Int) throws {
        try gradients.average(parameters, purpose: "the gradient all-reduce of step \(step)")
    }

    /// The step's loss averaged and its input tokens summed over the processes.
    func combine(loss: Double, tokens: Int, step: Int) throws -> (loss: Double, tokens: Int) {
        guard communicator.size > 1 else { return (loss, tokens) }
        let sums = try communicator.allReduceSum([loss, Double(tokens)], purpose: "the loss sum of step \(step)")
        return (sums[0] / Double(communicator.size), Int(sums[1]))
    }

    /// Whether `condition` holds on any process (a stop requested on one stops all).
    func anyProcess(_ condition: Bool, purpose: String) throws -> Bool {
        guard communicator.size > 1 else { return condition }
        return try communicator.allReduceSum([condition ? 1 : 0], purpose: purpose)[0] > 0
    }

    /// Throws when a process's trainable weights differ from process 0's in any bit.
    func requireIdenticalWeights(_ parameters: [Parameter], when: String) throws {
        guard communicator.size > 1 else { return }
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for parameter in parameters {
            parameter.tensor.withUnsafeElements { values in
                for value in values { hash = (hash ^ UInt64(value.bitPattern)) &* 0x0000_0100_0000_01B3 }
            }
        }
        let all = try communicator.allGather([Double(hash >> 32), Double(hash & 0xFFFF_FFFF)],
                                             purpose: "the weight comparison \(when)")
        if let differing = all.indices.first(where: { all[$0] != all[0] }) {
            throw CommunicatorError.mismatch("the trainable weights of process \(differing) differ from process 0's \(when); "
                + "give every process the same model directory, checkpoint and config")
        }
    }

    /// Gives each process other than 0 its own dropout generators (derived from process 0's), so
    /// that processes do not drop the same units of different rows.
    func decorrelateRandomStates(of model: any TrainableModel) throws {
        guard communicator.rank > 0 else { return }
        try model.restoreRandomStates(model.randomStates.mapValues { state in
            var generator = SeededGenerator(seed: state ^ UInt64(communicator.rank) &* 0x9E37_79B9_7F4A_7C15)
            return generator.next()
        })
    }
}
