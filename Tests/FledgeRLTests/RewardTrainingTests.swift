import Foundation
import XCTest
@testable import FledgeLM
@testable import FledgeRL

/// Reward modelling through the trainer on the tiny fixture classifier: the loss falls, a resumed run
/// continues exactly (LoRA adapters with the trained head), and bad data or settings are refused with
/// what to fix.
final class RewardTrainingTests: TemporaryDirectoryTestCase {
    private func config(steps: Int, output: String, lora: Bool) -> RewardConfig {
        var config = RewardConfig(defaults: .trl)
        config.run.modelNameOrPath = RewardReferenceTests.modelDirectory.path
        config.run.usePeft = lora
        config.run.loraR = 4
        config.run.loraDropout = 0
        config.training.learningRate = lora ? 3e-2 : 1e-2
        config.training.maxSteps = steps
        config.training.perDeviceTrainBatchSize = 2
        config.training.gradientAccumulationSteps = 1
        config.training.loggingSteps = 1
        config.training.saveSteps = 4
        config.training.gradientCheckpointing = .disabled
        config.training.outputDir = directory.appendingPathComponent(output).path
        return config
    }

    private func run(_ config: RewardConfig) throws -> (RewardModeling, SequenceClassifier) {
        let tokenizer = try RewardReferenceTests.tokenizer()
        let model = try TrainingModels.rewardModel(config, tokenizer: tokenizer)
        let pairs = try RewardReferenceTests.dataset("full_step").pairs + RewardReferenceTests.dataset("text_explicit").pairs
        return (try RewardModeling(model: model, train: pairs, evaluation: pairs, config: config), model)
    }

    func testTrainingRaisesTheChosenRewardsAndSavesAClassifier() throws {
        let config = config(steps: 12, output: "full", lora: false)
        let (algorithm, model) = try run(config)
        let before = try XCTUnwrap(algorithm.evaluate())
        let trainer = try Trainer(algorithm: algorithm, model: model, arguments: config.training)
        _ = try trainer.train()
        let after = try XCTUnwrap(algorithm.evaluate())
        XCTAssertLessThan(after["loss"]!, before["loss"]! * 0.5, "\(before) → \(after)")
        XCTAssertEqual(after["accuracy"], 1)
        let history = try MetricsFile.records(at: directory.appendingPathComponent("full/metrics.jsonl"))
        for name in ["loss", "accuracy", "margin", "min_reward", "mean_reward", "max_reward", "num_tokens"] {
            XCTAssertNotNil(history.first?[name], name)
        }
        // The output is a sequence classifier with the pad id it was trained with.
        let saved = try XCTUnwrap(PretrainedModel.load(directory: URL(fileURLWithPath: config.training.outputDir!)) as? SequenceClassifier)
        XCTAssertEqual(saved.config.padTokenId, 1202)
        XCTAssertEqual(saved.config.numLabels, 1)
    }

    /// A LoRA run resumed from its step-4 checkpoint ends with the weights (adapters and head) of a run
    /// that went straight through.
    func testLoRAResumeContinuesExactly() throws {
        let straightConfig = config(steps: 8, output: "straight", lora: true)
        let (straight, straightModel) = try run(straightConfig)
        _ = try Trainer(algorithm: straight, model: straightModel, arguments: straightConfig.training).train()
        XCTAssert(straightModel.trainableParameters.contains { $0.name == "score.weight" })

        var resumedConfig = config(steps: 8, output: "resumed", lora: true)
        let (first, firstModel) = try run(resumedConfig)
        let trainer = try Trainer(algorithm: first, model: firstModel, arguments: resumedConfig.training)
        XCTAssertEqual(try trainer.trainRecording(stoppingAt: 4).outcome.status, .stopped)
        resumedConfig.training.resumeFromCheckpoint = "true"
        let (second, secondModel) = try run(resumedConfig)
        _ = try Trainer(algorithm: second, model: secondModel, arguments: resumedConfig.training).train()
        XCTAssertEqual(maxDifference(secondModel.trainableParameters, straightModel.trainableParameters), 0)
    }

    /// The loss of `RewardLoss` by hand: −log σ(r_c − r_r − m) averaged, plus the centring term.
    func testLossAndMetricsByHand() {
        let rewards = Tensor(shape: [4], values: [1, -0.5, 0.25, 0.5])
        let result = RewardLoss(centerRewardsCoefficient: 0.1).compute(rewards: rewards, margins: [0.5, 2])
        func softplus(_ x: Double) -> Double { log1p(exp(x)) }
        let expected = (softplus(-(1 - 0.25 - 0.5)) + softplus(-(-0.5 - 0.5 - 2))) / 2 + 0.1 * (1.25 * 1.25 + 0) / 2
        XCTAssertEqual(Double(result.loss.item()), expected, accuracy: 1e-6)
        XCTAssertEqual(result.metrics["accuracy"], 0.5)
        XCTAssertEqual(result.metrics["margin"]!, (0.75 - 1) / 2, accuracy: 1e-7)
        XCTAssertEqual(result.metrics["min_reward"], -0.5)
        XCTAssertEqual(result.metrics["max_reward"], 1)
        XCTAssertEqual(result.metrics["mean_reward"]!, 0.3125, accuracy: 1e-7)
    }

    /// Rows that cannot be read are refused with the file, the line and what the row needs.
    func testBadRowsNameTheLineAndTheFix() throws {
        let encoder = RewardEncoder(tokenizer: try RewardReferenceTests.tokenizer(), maxLength: nil)
        func assertRefused(_ lines: [String], _ parts: [String], line: UInt = #line) throws {
            let file = directory.appendingPathComponent("rows-\(line).jsonl")
            try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try RewardDataset(file: file, encoder: encoder), line: line) { error in
                for part in parts { XCTAssert("\(error)".contains(part), "'\(part)' not in: \(error)", line: line) }
            }
        }
        try assertRefused([#"{"prompt": "a", "chosen": "b"}"#], [":1:", "needs 'chosen' and 'rejected'", "'prompt'"])
        try assertRefused([#"{"chosen": "b", "rejected": "c", "margin": "big"}"#], [":1:", "'margin' is a string"])
        try assertRefused([#"{"chosen": "b", "rejected": "c"}"#, #"{"chosen": "b", "rejected": "c", "margin": 1}"#],
                          [":2:", "text answers and a margin", "line 1"])
        try assertRefused([#"{"chosen": "b", "rejected": [{"role": "user", "content": "c"}]}"#], ["must all be strings, or all lists"])
        try assertRefused([#"{"chosen_ids": [1, -2], "rejected_ids": [3]}"#], ["'chosen_ids'", "non-negative integers"])
        let long = directory.appendingPathComponent("long.jsonl")
        try #"{"chosen": "a long answer", "rejected": "b"}"#.write(to: long, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RewardDataset(file: long, encoder: RewardEncoder(tokenizer: encoder.tokenizer, maxLength: 2))) { error in
            XCTAssert("\(error)".contains("raise max_length"), "\(error)")
        }
    }

    /// Token ids used as given, margins read, and a vocabulary mismatch refused.
    func testTokenizedRowsAndVocabularyCheck() throws {
        let file = directory.appendingPathComponent("ids.jsonl")
        try #"{"chosen_ids": [5, 6, 7], "rejected_ids": [5, 8], "margin": 2}"#.write(to: file, atomically: true, encoding: .utf8)
        let dataset = try RewardDataset(file: file, encoder: RewardEncoder(tokenizer: try RewardReferenceTests.tokenizer(), maxLength: 3))
        XCTAssertEqual(dataset.pairs, [RewardPair(chosen: [5, 6, 7], rejected: [5, 8], margin: 2)])
        let model = try RewardReferenceTests.model()
        XCTAssertThrowsError(try RewardModeling(model: model, train: [RewardPair(chosen: [99_999], rejected: [1])], config: RewardConfig())) {
            XCTAssert("\($0)".contains("outside the model's vocabulary of 1205"), "\($0)")
        }
    }

    /// `fledge config check` of a reward config: TRL's learning rate default, its field names, the
    /// centring weight's range, and reward modelling is not told RL's learning-rate advice.
    func testConfigResolution() throws {
        let trl = ConfigResolver.resolve(ConfigDocument(source: "empty", entries: []),
                                         options: ConfigOptions(trainer: .reward, preset: .trl, worldSize: 1))
        XCTAssertEqual(trl.entries.first { $0.key == "learning_rate" }?.value, .double(1e-4))
        XCTAssertEqual(trl.entries.first { $0.key == "max_length" }?.value, .int(1024))
        XCTAssert(trl.report.messages.allSatisfy { $0.field != "learning_rate" }, "\(trl.report.messages)")
        let negative = ConfigResolver.resolve(try ConfigDocument(yaml: "trainer: reward\ncenter_rewards_coefficient: -0.01", source: "t"))
        XCTAssertEqual(negative.report.errors.map(\.field), ["center_rewards_coefficient"])
        let dpoField = ConfigResolver.resolve(try ConfigDocument(yaml: "trainer: reward\nbeta: 0.1", source: "t"))
        XCTAssert(dpoField.report.errors.first?.text.contains("not a RewardConfig field") == true, "\(dpoField.report.errors)")
    }

    /// `neftune_noise_alpha` noises the embeddings of training passes only, as transformers' hook does
    /// (`module.training`): the micro-batch loss changes, the same seed gives the same loss, another seed
    /// another, a larger α moves it further on average, and evaluation is unchanged. GRPO, whose sampling
    /// and scoring passes TRL's hook would also noise, still refuses it.
    func testNEFTuneNoisesTrainingPassesOnly() throws {
        let plain = config(steps: 1, output: "plain", lora: false)
        var noisy = plain, louder = plain
        noisy.neftuneNoiseAlpha = 5
        louder.neftuneNoiseAlpha = 50
        let (clean, _) = try run(plain), (five, _) = try run(noisy), (fifty, _) = try run(louder)
        let batch = RewardModeling.MicroBatch(indices: [0, 1, 2], noiseSeed: 7)
        let reference = try clean.loss(of: batch).loss.item()
        let first = try five.loss(of: batch).loss.item(), again = try five.loss(of: batch).loss.item()
        XCTAssertNotEqual(first, reference)
        XCTAssertEqual(first, again)
        XCTAssertNotEqual(try five.loss(of: RewardModeling.MicroBatch(indices: [0, 1, 2], noiseSeed: 8)).loss.item(), first)
        var small = 0.0, large = 0.0
        for seed in 0..<8 as Range<UInt64> {
            let batch = RewardModeling.MicroBatch(indices: [0, 1, 2], noiseSeed: seed)
            small += Double(abs(try five.loss(of: batch).loss.item() - reference))
            large += Double(abs(try fifty.loss(of: batch).loss.item() - reference))
        }
        XCTAssertGreaterThan(large, small)
        XCTAssertEqual(try clean.evaluate()?["loss"], try five.evaluate()?["loss"])

        let resolved = try resolve(RewardConfig.self, "neftune_noise_alpha: 5")
        XCTAssertEqual(resolved.report.errors, [])
        XCTAssertEqual(resolved.config.neftuneNoiseAlpha, 5)
        let grpo = try resolve(GRPOConfig.self, "neftune_noise_alpha: 5")
        XCTAssertEqual(grpo.report.errors, [])
        XCTAssertEqual(grpo.config.generation.neftuneNoiseAlpha, 5)
    }
}
