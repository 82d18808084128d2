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
            let model = try SFTFixtures.fullyTrainableModel()
            let dataset = try SFTDataset(file: file, tokenizer: try SFTFixtures.tokenizer(), config: SFTConfig())
            var arguments = TrainingArguments()
            arguments.maxSteps = 1
            arguments.perDeviceTrainBatchSize = batchSize
            arguments.gradientAccumulationSteps = accumulation
            arguments.maxGradNorm = 0
            arguments.saveStrategy = .no
            arguments.outputDir = directory.appendingPathComponent("b\(batchSize)").path
            let sft = try SFT(model: model, train: dataset.sequences, config: .batches(batchSize, evaluation: 8, dataSeed: 3))
            let optimizer = GradientRecorder(parameters: model.trainableParameters)
            _ = try Trainer(algorithm: sft, model: model, arguments: arguments, optimizer: optimizer).train()
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
        let model = try SFTFixtures.fullyTrainableModel()
        let dataset = try SFTDataset(file: file, tokenizer: try SFTFixtures.tokenizer(), config: SFTConfig())
        var arguments = TrainingArguments()
        arguments.maxSteps = 40
        arguments.perDeviceTrainBatchSize = 3
        arguments.optim = .adamwTorch
        arguments.learningRate = 1e-2
        arguments.warmupSteps = 4
        arguments.loggingSteps = 5
        arguments.saveStrategy = .no
        arguments.outputDir = directory.path
        let sft = try SFT(model: model, train: dataset.sequences, config: .batches(3, evaluation: 3, dataSeed: 1))
        let trainer = try Trainer(algorithm: sft, model: model, arguments: arguments)
        let losses = try trainer.train().state.logHistory.map { $0["loss"]! }
        print("SFT synthetic task, loss every 5 steps: \(losses.map { String(format: "%.3f", $0) }.joined(separator: " "))")
        XCTAssertEqual(losses.count, 8)
        XCTAssertLessThan(losses.last!, 0.25 * losses.first!)
    }

    /// With `eval_strategy: steps`, evaluation records (`eval_loss`, `eval_entropy`) are logged every
    /// `eval_steps` and at the end; `eval_loss` is the token-mean loss of the held-out rows.
    func testEvaluationIsLoggedEveryEvalSteps() throws {
        let model = try SFTFixtures.fullyTrainableModel()
        let tokenizer = try SFTFixtures.tokenizer()
        let dataset = try SFTDataset(file: SFTFixtures.directory.appendingPathComponent("prompt_completion.jsonl"),
                                     tokenizer: tokenizer, config: SFTConfig())
        let heldOut = Array(dataset.sequences.suffix(2))
        var arguments = TrainingArguments()
        arguments.maxSteps = 5
        arguments.perDeviceTrainBatchSize = 2
        arguments.evalStrategy = .steps
        arguments.evalSteps = 2
        arguments.saveStrategy = .no
        arguments.outputDir = directory.path
        let sft = try SFT(model: model, train: Array(dataset.sequences.prefix(4)), evaluation: heldOut,
                          config: .batches(2, evaluation: 2, dataSeed: 0))
        arguments.optim = .sgd
        let trainer = try Trainer(algorithm: sft, model: model, arguments: arguments)
        let records = try trainer.train().state.logHistory.filter { $0["eval_loss"] != nil }
        XCTAssertEqual(records.map(\.step), [2, 4, 5])
        XCTAssertEqual(records[0].values.map(\.name), ["epoch", "eval_entropy", "eval_loss"])
        var sum = 0.0, count = 0
        for row in heldOut {
            let start = row.trained.firstIndex(of: true)!
            let logProbs = model.tokenLogProbs([row.ids])[0]
            for t in start..<row.ids.count { sum -= Double(logProbs[t - 1]) }
            count += row.ids.count - start
        }
        XCTAssertEqual(records.last!["eval_loss"]!, sum / Double(count), accuracy: 1e-5 * sum / Double(count))
    }
}
