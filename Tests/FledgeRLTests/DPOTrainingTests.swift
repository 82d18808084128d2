import Foundation
import XCTest
@testable import FledgeRL

/// DPO through the trainer loop on the tiny fixture model.
final class DPOTrainingTests: TemporaryDirectoryTestCase {
    /// Six preference pairs (the next colour preferred to a wrong one).
    private func colourPairs() throws -> [PreferencePair] {
        let words = ["red", "blue", "green", "gold", "pink", "gray"]
        let rows = words.indices.map { i in
            #"{"prompt": "The colour after \#(words[i]) is", "chosen": " \#(words[(i + 1) % 6]).", "rejected": " \#(words[(i + 3) % 6])."}"#
        }
        let encoder = PreferenceEncoder(tokenizer: try SFTFixtures.tokenizer(), maxLength: 64, truncationMode: .keepStart)
        return try PreferenceDataset(file: try writeLines(rows, to: "colours.jsonl"), encoder: encoder).pairs
    }

    private func config(steps: Int, output: String) -> DPOConfig {
        var config = DPOConfig()
        config.beta = 0.5
        config.training.maxSteps = steps
        config.training.perDeviceTrainBatchSize = 3
        config.training.gradientAccumulationSteps = 2
        config.training.optim = .adamwTorch
        config.training.learningRate = 2e-3
        config.training.loggingSteps = 1
        config.training.saveStrategy = .no
        config.training.outputDir = directory.appendingPathComponent(output).path
        return config
    }

    /// With LoRA adapters (the reference: adapters off), `rewards/accuracies` rises from 0 (policy =
    /// reference: no pair's margin is positive) to 1, `rewards/margins` grows from 0 and the loss falls
    /// from log 2.
    func testAccuracyRisesAndMarginsGrow() throws {
        let model = try SFTFixtures.model()
        try model.addLoRA(LoRAOptions(r: 8, alpha: 16, dropout: 0, seed: 1))
        let config = config(steps: 12, output: "lora")
        let dpo = try DPO(model: model, train: try colourPairs(), config: config, reference: .adaptersDisabled(model))
        let history = try Trainer(algorithm: dpo, model: model, arguments: config.training).train().state.logHistory
        let accuracies = history.map { $0["rewards/accuracies"]! }, margins = history.map { $0["rewards/margins"]! }
        let losses = history.map { $0["loss"]! }
        print("DPO accuracies \(accuracies.map { String(format: "%.2f", $0) })\nDPO margins \(margins.map { String(format: "%.3f", $0) })")
        XCTAssertEqual(accuracies.first!, 0)
        XCTAssertEqual(margins.first!, 0, accuracy: 1e-6)
        XCTAssertEqual(losses.first!, log(2), accuracy: 1e-6)
        XCTAssertEqual(accuracies.suffix(3), [1, 1, 1])
        XCTAssertEqual(margins, margins.sorted(), "the margins grow step after step")
        XCTAssertGreaterThan(margins.last!, 0.5)
        XCTAssertLessThan(losses.last!, 0.45)
        XCTAssert(history.allSatisfy { $0["logits/chosen"] != nil && $0["entropy"]! > 0 })
    }

    /// `precompute_ref_log_probs` computes the reference log-probs once and caches them in
    /// `output_dir`: a second run reads them (even when its reference would give other numbers), a
    /// changed dataset is computed again, and training from them equals training with the reference
    /// model scored every step.
    func testPrecomputedReferenceIsCachedAndReused() throws {
        let pairs = try colourPairs()
        var config = config(steps: 3, output: "precomputed")
        config.precomputeRefLogProbs = true
        let base = try SFTFixtures.model()
        let first = try DPO(model: try SFTFixtures.fullyTrainableModel(), train: pairs, config: config, reference: .frozen(base))
        XCTAssertEqual(first.precomputedTrain?.wasCached, false)
        let cache = URL(fileURLWithPath: config.training.outputDir!).appendingPathComponent("reference_logps/train.safetensors")
        XCTAssert(FileManager.default.fileExists(atPath: cache.path))

        let other = try SFTFixtures.fullyTrainableModel()
        for parameter in other.trainableParameters { parameter.tensor.withUnsafeMutableElements { $0[0] += 1 } }
        let second = try DPO(model: try SFTFixtures.fullyTrainableModel(), train: pairs, config: config, reference: .frozen(other))
        XCTAssertEqual(second.precomputedTrain?.wasCached, true)
        XCTAssertEqual(second.precomputedTrain?.chosen, first.precomputedTrain?.chosen)
        let changed = try DPO(model: try SFTFixtures.fullyTrainableModel(), train: Array(pairs.prefix(5)), config: config,
                              reference: .frozen(base))
        XCTAssertEqual(changed.precomputedTrain?.wasCached, false, "another dataset is computed again")

        func losses(precompute: Bool) throws -> [Double] {
            var runConfig = self.config(steps: 3, output: precompute ? "with" : "without")
            runConfig.precomputeRefLogProbs = precompute
            let model = try SFTFixtures.fullyTrainableModel()
            let dpo = try DPO(model: model, train: pairs, config: runConfig, reference: .frozen(try SFTFixtures.model()))
            return try Trainer(algorithm: dpo, model: model, arguments: runConfig.training).train().state.logHistory.map { $0["loss"]! }
        }
        let scored = try losses(precompute: false), precomputed = try losses(precompute: true)
        print("DPO losses, reference scored every step \(scored), precomputed \(precomputed)")
        for (a, b) in zip(scored, precomputed) { XCTAssertEqual(a, b, accuracy: 1e-6 * max(1, abs(a))) }
    }

    /// Evaluation logs `eval_loss` and TRL's metrics with the `eval_` prefix.
    func testEvaluationLogsEvalMetrics() throws {
        let pairs = try colourPairs()
        var config = config(steps: 2, output: "eval")
        config.training.evalStrategy = .steps
        config.training.evalSteps = 1
        let model = try SFTFixtures.model()
        try model.addLoRA(LoRAOptions(r: 4, alpha: 8, dropout: 0, seed: 2))
        let dpo = try DPO(model: model, train: pairs, evaluation: Array(pairs.prefix(4)), config: config,
                          reference: .adaptersDisabled(model))
        let history = try Trainer(algorithm: dpo, model: model, arguments: config.training).train().state.logHistory
        let evaluations = history.filter { $0["eval_loss"] != nil }
        XCTAssertEqual(evaluations.count, 2)
        XCTAssert(evaluations.allSatisfy { $0["eval_rewards/accuracies"] != nil && $0["eval_logps/chosen"] != nil })
        XCTAssertLessThan(evaluations.last!["eval_loss"]!, log(2))
    }

    /// `neftune_noise_alpha` noises every pass TRL's hook noises in training mode: the policy's and, with
    /// LoRA, the reference pass through the same model with adapters off; not a separate frozen reference
    /// model (the hook sits on the trained model's embeddings) and not evaluation. The loss changes, the
    /// same seed gives the same loss, another seed another, a larger α moves it further on average.
    func testNEFTuneNoisesThePolicyAndTheAdapterOffReference() throws {
        let pairs = try colourPairs()
        func dpo(alpha: Double?, frozenReference: Bool = false) throws -> DPO {
            var config = config(steps: 1, output: "neftune")
            config.neftuneNoiseAlpha = alpha
            let model = try SFTFixtures.model()
            try model.addLoRA(LoRAOptions(r: 4, alpha: 8, dropout: 0, seed: 3))
            let reference: ReferencePolicy = frozenReference ? .frozen(try SFTFixtures.model()) : .adaptersDisabled(model)
            return try DPO(model: model, train: pairs, evaluation: Array(pairs.prefix(3)), config: config, reference: reference)
        }
        let clean = try dpo(alpha: nil), five = try dpo(alpha: 5), fifty = try dpo(alpha: 50)
        let batch = RowMicroBatch(indices: [0, 1, 2], noiseSeed: 7)
        let plain = try clean.loss(of: batch)
        XCTAssertEqual(Double(plain.loss.item()), log(2), accuracy: 1e-6, "untrained adapters: policy = reference")
        let first = try five.loss(of: batch), again = try five.loss(of: batch)
        XCTAssertNotEqual(first.loss.item(), plain.loss.item())
        XCTAssertEqual(first.loss.item(), again.loss.item())
        XCTAssertNotEqual(try five.loss(of: RowMicroBatch(indices: [0, 1, 2], noiseSeed: 8)).loss.item(), first.loss.item())
        var small = 0.0, large = 0.0
        for seed in 0..<6 as Range<UInt64> {
            let batch = RowMicroBatch(indices: [0, 1, 2], noiseSeed: seed)
            small += abs(Double(try five.loss(of: batch).loss.item()) - log(2))
            large += abs(Double(try fifty.loss(of: batch).loss.item()) - log(2))
        }
        XCTAssertGreaterThan(large, small)
        XCTAssertEqual(try clean.evaluate()?["loss"], try five.evaluate()?["loss"])
        // The reference's mean log-prob is logps/chosen − rewards/chosen / β: noised with adapters off,
        // the clean policy's with a frozen reference model.
        func referenceChosen(_ result: MicroBatchLoss) -> Double { result.metrics["logps/chosen"]! - result.metrics["rewards/chosen"]! / 0.5 }
        let cleanReference = plain.metrics["logps/chosen"]!
        XCTAssertGreaterThan(abs(referenceChosen(first) - cleanReference), 1e-3)
        let frozen = try dpo(alpha: 5, frozenReference: true).loss(of: batch)
        XCTAssertEqual(referenceChosen(frozen), cleanReference, accuracy: 1e-4 * abs(cleanReference))
        XCTAssertNotEqual(frozen.metrics["logps/chosen"]!, cleanReference)
    }
}
