import Foundation
import XCTest
import FledgeLM
@testable import FledgeRL

/// `neftune_noise_alpha` in GRPO, RLOO and distillation, as transformers 5.25's hook noises TRL 1.16's
/// passes: every forward of the trained model in training mode — sampling (the prefill at the longest
/// prompt's length, each decoding step at length 1), the old log-probs, the reference log-probs through
/// the same model with adapters off, the loss (at the generation batch's padded length) — and nothing
/// else: not a separate reference model, not evaluation (distillation's in `DistillationTrainingTests`). PPO
/// ignores it, as TRL 1.12's `PPOTrainer` does. Each model's ``NEFTunePassLog`` records the passes noised on it.
final class NEFTuneRLTests: TemporaryDirectoryTestCase {
    private static let modelDirectory = GRPOTrainingTests.modelDirectory

    private func problems(_ count: Int, seed: UInt64 = 11) throws -> PromptDataset {
        let tokenizer = try Tokenizer(directory: Self.modelDirectory.path)
        let rows = ArithmeticTask().problems(count: count, seed: seed).map { problem in
            PromptDataset.Row(prompt: .string(problem.prompt), promptIds: tokenizer.encode(problem.prompt, addSpecialTokens: true),
                              columns: JSONObject([("answer", .string(problem.answer))]))
        }
        return PromptDataset(rows: rows, file: URL(fileURLWithPath: "(test problems)"))
    }

    private func resolved<Config: TrainerConfig>(_ type: Config.Type, _ fields: [String: String], output: String) throws -> Config {
        var settings = [
            "model_name_or_path": Self.modelDirectory.path, "output_dir": directory.path + "/" + output,
            "reward_funcs": "[answer]", "per_device_train_batch_size": "8", "gradient_accumulation_steps": "1",
            "num_generations": "4", "max_completion_length": "5", "learning_rate": "0.003", "logging_steps": "1",
            "save_strategy": "\"no\"", "gradient_checkpointing": "false", "neftune_noise_alpha": "5",
        ]
        settings.merge(fields) { $1 }
        let resolved = try resolve(type, settings.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "\n"))
        XCTAssert(resolved.report.isUsable, "\(resolved.report.messages)")
        return resolved.config
    }

    private static let lora = ["use_peft": "true", "lora_target_modules": "all-linear"]

    /// The passes a group-sampling round noises, in TRL's order: the prefill of every row (`L` the longest
    /// prompt), one decoding step per token after the first (`L` = 1), then `scoringPasses` passes of old or
    /// reference log-probs over all rows (`L` the longest prompt plus the longest completion), all without gradients.
    private func assertRoundPasses(_ passes: [NEFTuneNoise.Pass], rows: [GRPORollout.Completion], scoringPasses: Int, width: Int,
                                   file: StaticString = #filePath, line: UInt = #line) {
        let prompt = rows.map(\.promptIds.count).max()!, completion = rows.map(\.completionIds.count).max()!
        func magnitude(_ length: Int) -> Float { 5 / Float(length * width).squareRoot() }
        let lengths = [prompt] + Array(repeating: 1, count: completion - 1)
        let magnitudes = lengths.map(magnitude) + Array(repeating: magnitude(prompt + completion), count: scoringPasses)
        XCTAssertEqual(passes.map(\.magnitude), magnitudes, file: file, line: line)
        // Every row is prefilled and scored; a row that has stopped leaves the decoding batch (TRL decodes it on,
        // its tokens unused: its noise reaches nothing).
        XCTAssertEqual(passes.first?.rows, rows.count, file: file, line: line)
        XCTAssert(passes.dropFirst().prefix(completion - 1).allSatisfy { (1...rows.count).contains($0.rows) }, file: file, line: line)
        XCTAssertEqual(passes.dropFirst(completion).map(\.rows), Array(repeating: rows.count, count: scoringPasses), file: file, line: line)
        // The prefill and the decoding steps run at TRL's length; the scoring passes are padded to their longest
        // row, at most TRL's (their magnitude is TRL's whatever their padding).
        XCTAssertEqual(passes.prefix(completion).map(\.length), lengths, file: file, line: line)
        XCTAssert(passes.dropFirst(completion).allSatisfy { $0.length <= prompt + completion }, file: file, line: line)
        for pass in passes {
            XCTAssertFalse(pass.withGradients, file: file, line: line)
            XCTAssertLessThanOrEqual(pass.largestNoise, pass.magnitude, file: file, line: line)
            XCTAssertGreaterThan(pass.largestNoise, 0.9 * pass.magnitude, file: file, line: line)
        }
    }

    /// Generation noises the prefill of all rows at the longest prompt's length and each decoding step at
    /// length 1 (transformers' `generate` with a KV cache), only when the noise covers passes without
    /// gradients (TRL samples in training mode; SFT's noise leaves generation alone); each row's noise is
    /// its own, so continuous batching one row at a time samples the same, and the same seed repeats.
    func testGenerationNoisesThePrefillAndEachDecodingStepAtTheirLength() throws {
        let model = try LanguageModel(directory: Self.modelDirectory)
        let width = model.config.hiddenSize
        let log = NEFTunePassLog()
        model.neftunePassLog = log
        let prompts = [[1, 2, 3], [4, 5, 6, 7, 8, 9], [1, 2, 3]]
        var options = SamplingOptions(model.generationConfig)
        options.maxNewTokens = 4
        options.greedy = false
        options.ignoreEOS = true
        options.seed = 3
        func generate(_ noise: NEFTuneNoise?, concurrentRows: Int? = nil) -> [GeneratedSequence] {
            model.withNEFTuneNoise(noise) { model.generate(prompts, options: options, concurrentRows: concurrentRows) }
        }
        let clean = generate(nil)
        XCTAssertEqual(generate(NEFTuneNoise(alpha: 5, seed: 1)).map(\.logProbs), clean.map(\.logProbs))
        XCTAssert(log.passes.isEmpty, "noise for training passes only leaves generation alone")

        let noise = NEFTuneNoise(alpha: 5, seed: 1, noisesPassesWithoutGrad: true)
        let noisy = generate(noise)
        let passes = log.passes
        XCTAssertEqual(passes.map(\.rows), [3, 3, 3, 3])
        XCTAssertEqual(passes.map(\.length), [6, 1, 1, 1])
        XCTAssertEqual(passes.map(\.magnitude), [5 / Float(6 * width).squareRoot()] + Array(repeating: 5 / Float(width).squareRoot(), count: 3))
        for pass in passes {
            XCTAssertLessThanOrEqual(pass.largestNoise, pass.magnitude)
            XCTAssertGreaterThan(pass.largestNoise, 0.9 * pass.magnitude)
            XCTAssertFalse(pass.withGradients)
        }
        XCTAssertNotEqual(noisy.map(\.logProbs), clean.map(\.logProbs), "the noise reaches the sampled distributions")
        XCTAssertEqual(generate(noise).map(\.logProbs), noisy.map(\.logProbs), "the same seed draws the same noise")
        let before = log.passes.count
        let oneAtATime = generate(noise, concurrentRows: 1)
        XCTAssertEqual(oneAtATime.map(\.ids), noisy.map(\.ids), "each row's noise is keyed by the row, not its slot")
        XCTAssertEqual(log.passes[before...].map(\.rows), [3] + Array(repeating: 1, count: 9),
                       "every row prefilled at once, then one row per decoding pass")
    }

    /// Scoring passes keyed by row take the given `L` whatever their own padding, and a row's noise does not
    /// depend on which rows share its pass or in which order: one pass of three rows, three of one and a
    /// reversed order give the same log-probs (within float rounding), all unlike the clean ones.
    func testScoringNoiseIsKeyedByRowAndTakesTheGivenLength() throws {
        let model = try LanguageModel(directory: Self.modelDirectory)
        let width = model.config.hiddenSize
        let log = NEFTunePassLog()
        model.neftunePassLog = log
        let sequences = [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11, 12], [1, 2, 3, 4]], starts = [2, 3, 2]
        func score(_ order: [Int], batchSize: Int) -> [[Float]] {
            let noise = NEFTuneNoise(alpha: 5, seed: 9, noisesPassesWithoutGrad: true, rowKeys: order.map { UInt64($0) }, length: 20)
            let rows = model.withNEFTuneNoise(noise) {
                model.scoreWithoutGrad(order.map { sequences[$0] }, scoredFrom: order.map { starts[$0] }, batchSize: batchSize).rows
            }
            var inOrder = rows
            for (index, row) in order.enumerated() { inOrder[row] = rows[index] }
            return inOrder
        }
        let whole = score([0, 1, 2], batchSize: 3)
        XCTAssertEqual(log.passes.map(\.rows), [3])
        XCTAssertEqual(log.passes.map(\.length), [7])
        XCTAssertEqual(log.passes[0].magnitude, 5 / Float(20 * width).squareRoot())
        for other in [score([0, 1, 2], batchSize: 1), score([2, 1, 0], batchSize: 2)] {
            XCTAssertLessThan(maxAbsDifference(other.flatMap { $0 }, whole.flatMap { $0 }), 1e-5)
        }
        XCTAssertEqual(log.passes.map(\.rows), [3, 1, 1, 1, 2, 1])
        let clean = model.scoreWithoutGrad(sequences, scoredFrom: starts, batchSize: 3).rows
        XCTAssertGreaterThan(maxAbsDifference(clean.flatMap { $0 }, whole.flatMap { $0 }), 1e-4)
    }

    /// GRPO with LoRA and `num_iterations` 2: sampling, the old log-probs, the reference log-probs with adapters
    /// off (the same model) and the loss are noised, evaluation is not; the old and reference log-probs differ
    /// from clean scoring of the same completions.
    func testGRPONoisesSamplingOldAndAdapterOffReferenceAndLossPasses() throws {
        let config = try resolved(GRPOConfig.self, Self.lora.merging(["beta": "0.04", "num_iterations": "2"]) { $1 }, output: "grpo")
        let model = try TrainingModels.load(config.run, seed: config.training.seed, gradientCheckpointing: false)
        let log = NEFTunePassLog()
        model.neftunePassLog = log
        let grpo = try GRPO(model: model, tokenizer: try TrainingModels.tokenizer(config.run), dataset: try problems(8),
                            rewards: try BuiltInRewards.make(config: config), config: config, evaluationDataset: try problems(2, seed: 5))
        let batch = try grpo.microBatches(for: StepPosition(step: 0, epoch: 0, microBatches: 0..<1))[0]
        let rows = batch.completions
        assertRoundPasses(log.passes, rows: rows, scoringPasses: 2, width: model.config.hiddenSize)

        let sequences = rows.map { $0.promptIds + $0.completionIds }, starts = rows.map(\.promptIds.count)
        let clean = model.scoreWithoutGrad(sequences, scoredFrom: starts, batchSize: 8).rows
        let cleanReference = model.withAdaptersDisabled { model.scoreWithoutGrad(sequences, scoredFrom: starts, batchSize: 8).rows }
        XCTAssertGreaterThan(maxAbsDifference(rows.flatMap { $0.oldLogProbs! }, clean.flatMap { $0 }), 1e-4)
        XCTAssertGreaterThan(maxAbsDifference(rows.flatMap { $0.referenceLogProbs! }, cleanReference.flatMap { $0 }), 1e-4)

        let before = log.passes.count
        _ = try grpo.loss(of: batch)
        let loss = Array(log.passes[before...])
        let padded = rows.map(\.promptIds.count).max()! + rows.map(\.completionIds.count).max()!
        XCTAssertEqual(loss.map(\.rows), [8])
        XCTAssertEqual(loss.map(\.withGradients), [true])
        XCTAssertEqual(loss[0].magnitude, 5 / Float(padded * model.config.hiddenSize).squareRoot())
        _ = try grpo.evaluate()
        XCTAssertEqual(log.passes.count, before + 1, "evaluation (TRL's eval mode) is not noised")
    }

    /// GRPO fully fine-tuned against a frozen reference model: the reference is another model, so its passes are
    /// not noised and its log-probs are exactly the clean ones, while the policy's old log-probs are noised.
    func testGRPOLeavesASeparateReferenceModelClean() throws {
        let config = try resolved(GRPOConfig.self, ["beta": "0.04", "num_iterations": "2"], output: "grpo-full")
        let model = try TrainingModels.load(config.run, seed: config.training.seed, gradientCheckpointing: false)
        let referenceModel = try LanguageModel(directory: model.directory)
        let log = NEFTunePassLog(), referenceLog = NEFTunePassLog()
        model.neftunePassLog = log
        referenceModel.neftunePassLog = referenceLog
        let grpo = try GRPO(model: model, tokenizer: try TrainingModels.tokenizer(config.run), dataset: try problems(8),
                            rewards: try BuiltInRewards.make(config: config), config: config, reference: .frozen(referenceModel))
        let rows = try grpo.microBatches(for: StepPosition(step: 0, epoch: 0, microBatches: 0..<1))[0].completions
        assertRoundPasses(log.passes, rows: rows, scoringPasses: 1, width: model.config.hiddenSize)
        XCTAssert(referenceLog.passes.isEmpty)
        let sequences = rows.map { $0.promptIds + $0.completionIds }, starts = rows.map(\.promptIds.count)
        XCTAssertEqual(rows.flatMap { $0.referenceLogProbs! },
                       referenceModel.scoreWithoutGrad(sequences, scoredFrom: starts, batchSize: 8).values)
        XCTAssertGreaterThan(maxAbsDifference(rows.flatMap { $0.oldLogProbs! },
                                           model.scoreWithoutGrad(sequences, scoredFrom: starts, batchSize: 8).values), 1e-4)
    }

    /// RLOO (which always scores old log-probs) with LoRA: sampling, old and adapter-off reference log-probs and
    /// the loss are noised.
    func testRLOONoisesSamplingOldAndAdapterOffReferenceAndLossPasses() throws {
        let config = try resolved(RLOOConfig.self, Self.lora, output: "rloo")
        let model = try TrainingModels.load(config.run, seed: config.training.seed, gradientCheckpointing: false)
        let log = NEFTunePassLog()
        model.neftunePassLog = log
        let rloo = try RLOO(model: model, tokenizer: try TrainingModels.tokenizer(config.run), dataset: try problems(8),
                            rewards: try BuiltInRewards.make(config: config), config: config)
        let batch = try rloo.microBatches(for: StepPosition(step: 0, epoch: 0, microBatches: 0..<1))[0]
        assertRoundPasses(log.passes, rows: batch.completions, scoringPasses: 2, width: model.config.hiddenSize)
        let before = log.passes.count
        _ = try rloo.loss(of: batch)
        XCTAssertEqual(log.passes[before...].map(\.withGradients), [true])
    }

    /// PPO accepts the field with a note and never noises: TRL 1.12's `PPOTrainer.train` replaces
    /// `Trainer.train`, where transformers hooks NEFTune on.
    func testPPOIgnoresItAsTRLDoes() throws {
        let resolved = try resolve(PPOConfig.self, "neftune_noise_alpha: 5")
        let messages = resolved.report.messages.filter { $0.field == "neftune_noise_alpha" }
        XCTAssertEqual(messages.map(\.kind), [.note])
        XCTAssert(messages.first?.text.contains("ignored, as TRL ignores it in PPO") ?? false, "\(messages)")
    }

    /// A noised GRPO run trains differently from a clean one, and stopped after step 2 and resumed it ends with
    /// the weights and losses of the uninterrupted run (the noise is a pure function of the seed and the step).
    func testGRPOResumesExactlyWithNEFTune() throws {
        func run(_ name: String, alpha: String = "5", stopAt: Int? = nil, resume: Bool = false) throws -> (losses: [Double], weights: [[Float]]) {
            var fields = Self.lora.merging(["beta": "0.04", "num_iterations": "2", "max_steps": "4", "save_steps": "2",
                                            "save_strategy": "steps", "neftune_noise_alpha": alpha]) { $1 }
            if resume { fields["resume_from_checkpoint"] = "true" }
            let config = try resolved(GRPOConfig.self, fields, output: name)
            let model = try TrainingModels.load(config.run, seed: config.training.seed, gradientCheckpointing: false)
            let grpo = try GRPO(model: model, tokenizer: try TrainingModels.tokenizer(config.run), dataset: try problems(16),
                                rewards: try BuiltInRewards.make(config: config), config: config)
            let trainer = try Trainer(algorithm: grpo, model: model, arguments: config.training)
            let outcome = try trainer.trainRecording(stoppingAt: stopAt).outcome
            return (outcome.state.logHistory.compactMap { $0["loss"] }, model.trainableParameters.map { $0.tensor.toArray() })
        }
        let straight = try run("straight")
        let clean = try run("clean", alpha: "0")
        XCTAssertNotEqual(clean.weights, straight.weights)
        _ = try run("resumed", stopAt: 2)
        let resumed = try run("resumed", resume: true)
        XCTAssertEqual(resumed.weights, straight.weights)
        XCTAssertEqual(resumed.losses, straight.losses)
    }
}
