import Foundation
import XCTest
@testable import FledgeRL

/// SFT through the trainer loop.
final class SFTTrainingTests: TemporaryDirectoryTestCase {
    /// Two accumulated micro-batches of 4 rows give the gradient of one batch of 8 (SFT's loss is a
    /// token mean over the whole step), although the rows have different numbers of trained tokens.
    /// The gradients are those the optimizer receives.
    func testTwoMicroBatchesOfFourEqualOneBatchOfEight() throws {
        let rows = (0..<8).map { i in
            #"{"prompt": "Question \#(i): what is \#(i) + \#(i * 3)?", "completion": " \#(String(repeating: "it is ", count: i % 3 + 1))\#(i * 4)"}"#
        }
        let file = try writeLines(rows, to: "train.jsonl")
        func update(batchSize: Int, accumulation: Int) throws -> [String: [Float]] {
            let model = try SFTFixtures.model()
            let weights = FullFineTune(model)
            let dataset = try SFTDataset(file: file, tokenizer: try SFTFixtures.tokenizer(), config: SFTConfig())
            var arguments = TrainingArguments()
            arguments.maxSteps = 1
            arguments.perDeviceTrainBatchSize = batchSize
            arguments.gradientAccumulationSteps = accumulation
            arguments.maxGradNorm = 0
            arguments.saveStrategy = .no
            arguments.outputDir = directory.appendingPathComponent("b\(batchSize)").path
            let sft = try SFT(model: model, train: dataset.sequences, batchSize: batchSize, evaluationBatchSize: 8, dataSeed: 3)
            let optimizer = GradientRecorder(parameters: weights.trainableParameters)
            _ = try Trainer(algorithm: sft, model: weights, arguments: arguments, optimizer: optimizer).train()
            return optimizer.gradients
        }
        let accumulated = try update(batchSize: 4, accumulation: 2), whole = try update(batchSize: 8, accumulation: 1)
        var worst: Float = 0, largest: Float = 0
        for (name, gradient) in whole {
            worst = max(worst, maxAbsDifference(gradient, accumulated[name]!))
            largest = max(largest, gradient.map(abs).max()!)
        }
        print("SFT accumulation 2×4 vs 1×8: gradient max abs difference \(worst) (largest gradient \(largest))")
        XCTAssertGreaterThan(largest, 0.1)
        XCTAssertLessThan(worst, 1e-6)
    }

    /// On a small synthetic task (answers that follow from the prompt), the loss falls clearly
    /// within a few dozen steps.
    func testLossFallsOnASyntheticTask() throws {
        let words = ["red", "blue", "green", "gold", "pink", "gray"]
        let rows = words.indices.map { i in
            #"{"prompt": "The colour after \#(words[i]) is", "completion": " \#(words[(i + 1) % words.count])."}"#
        }
        let file = try writeLines(rows, to: "colours.jsonl")
        let model = try SFTFixtures.model()
        let weights = FullFineTune(model)
        let dataset = try SFTDataset(file: file, tokenizer: try SFTFixtures.tokenizer(), config: SFTConfig())
        var arguments = TrainingArguments()
        arguments.maxSteps = 40
        arguments.perDeviceTrainBatchSize = 3
        arguments.learningRate = 0.05
        arguments.warmupSteps = 4
        arguments.loggingSteps = 5
        arguments.saveStrategy = .no
        arguments.outputDir = directory.path
        let sft = try SFT(model: model, train: dataset.sequences, batchSize: 3, evaluationBatchSize: 3, dataSeed: 1)
        let trainer = try Trainer(algorithm: sft, model: weights, arguments: arguments,
                                  optimizer: MomentumSGD(parameters: weights.trainableParameters, momentum: 0.9))
        let losses = try trainer.train().state.logHistory.map { $0["loss"]! }
        print("SFT synthetic task, loss every 5 steps: \(losses.map { String(format: "%.3f", $0) }.joined(separator: " "))")
        XCTAssertEqual(losses.count, 8)
        XCTAssertLessThan(losses.last!, 0.25 * losses.first!)
    }
}
