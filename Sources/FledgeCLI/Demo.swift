import ArgumentParser
import Foundation
import FledgeRL

/// `fledge demo`: until the GRPO demo lands, trains a tiny attention model from scratch on a
/// copy task with the engine's autograd, showing the loss fall and the accuracy rise.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a tiny attention model on a copy task (a built-in example of the engine; the GRPO demo replaces it).")

    @Option(help: "Optimizer steps.") var steps = 300
    @Option(help: "Random seed.") var seed: UInt64 = 0

    func run() throws {
        var example = CopyTaskExample(seed: seed)
        print("Training a 1-layer attention model (\(example.parameterCount) parameters) to copy a sequence of digits.")
        print("step   loss    copy accuracy")
        let start = Date()
        for step in 1...steps {
            let (loss, accuracy) = example.trainStep(step: step)
            if step == 1 || step % 25 == 0 {
                print(String(format: "%4d   %.3f   %5.1f%%", step, loss, accuracy * 100))
            }
        }
        let accuracy = example.evaluate()
        print(String(format: "Held-out copy accuracy: %.1f%% (chance is 10%%), %.1f s.", accuracy * 100, Date().timeIntervalSince(start)))
    }
}
