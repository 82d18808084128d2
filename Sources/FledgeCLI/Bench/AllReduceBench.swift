import ArgumentParser
import Foundation
import FledgeNN
import FledgeRL
import FledgeTensor

/// `mpirun -np N fledge bench allreduce`: the time the trainer's bucketed gradient average takes
/// for gradients of a given size, with every process arriving together (pure communication, no
/// waiting for a slower process). Process 0 prints.
struct AllReduceBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allreduce", abstract: "Milliseconds per gradient average over the processes mpirun started.")

    @Flag(help: "One JSON line per size.") var json = false
    @Option(help: "Gradient floats per average, comma-separated (112128: the demo model's LoRA).") var floats = "112128,4194304"
    @Option(help: "Parameters the floats are split into.") var tensors = 42
    @Option(help: "Timed averages per size, after five warm-up ones.") var repeats = 50

    func run() throws {
        try ProcessGroupRun.run { communicator in
            let averager = try GradientAverager(communicator: communicator, environment: ProcessInfo.processInfo.environment)
            for total in floats.split(separator: ",").compactMap({ Int($0) }) {
                let parameters = (0..<tensors).map { index in
                    let tensor = Tensor.full([total / tensors + (index < total % tensors ? 1 : 0)], Float(communicator.rank + 1))
                    tensor.requiresGrad = true
                    tensor.grad = tensor.copied()
                    return Parameter(name: "p\(index)", tensor: tensor)
                }
                for _ in 0..<5 { try averager.average(parameters, purpose: "a warm-up average") }
                _ = try communicator.allReduceSum([0], purpose: "the start of the timing")
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<repeats { try averager.average(parameters, purpose: "a timed average") }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(repeats)
                guard communicator.isPrimary else { continue }
                report(["processes": communicator.size, "floats": total, "megabytes": Double(total * 4) / 1_048_576,
                        "milliseconds": (seconds * 1e5).rounded() / 100], json: json)
            }
        }
    }
}
