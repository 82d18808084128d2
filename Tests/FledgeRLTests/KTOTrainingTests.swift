import Foundation
import XCTest
import FledgeLM
@testable import FledgeRL

/// KTO through the trainer loop on the tiny SFT fixture model, its config checks, and its data errors.
final class KTOTrainingTests: TemporaryDirectoryTestCase {
    /// Twelve labelled rows: for each colour the next one (desirable) and a wrong one (undesirable),
    /// interleaved so every batch of four has both.
    private func colourRows(mismatchedBatchSize: Int?) throws -> [UnpairedSequence] {
        let words = ["red", "blue", "green", "gold", "pink", "gray"]
        let rows = words.indices.flatMap { i in [
            #"{"prompt": "The colour after \#(words[i]) is", "completion": " \#(words[(i + 1) % 6]).", "label": true}"#,
            #"{"prompt": "The colour after \#(words[i]) is", "completion": " \#(words[(i + 3) % 6]).", "label": false}"#,
        ] }
        let encoder = UnpairedPreferenceEncoder(tokenizer: try SFTFixtures.tokenizer(), maxLength: 64)
        return try UnpairedPreferenceDataset(file: try writeLines(rows, to: "colours.jsonl"), encoder: encoder,
                                             mismatchedBatchSize: mismatchedBatchSize).rows
    }

    private func config(steps: Int, output: String, lossType: KTOLossType = .kto) -> KTOConfig {
        var config = KTOConfig()
        config.beta = 0.5
        config.lossType = lossType
        config.training.trainSamplingStrategy = lossType.estimatesKL ? .sequential : .random
        config.training.maxSteps = steps
        config.training.perDeviceTrainBatchSize = 4
        config.training.gradientAccumulationSteps = 1
        config.training.optim = .adamwTorch
        config.training.learningRate = 2e-3
        config.training.loggingSteps = 1
        config.training.saveStrategy = .no
        config.training.outputDir = directory.appendingPathComponent(output).path
        return config
    }

    /// With LoRA adapters (the reference: adapters off), the first step's loss is 1 − σ(0) = 0.5 with
    /// zero rewards and KL; over five epochs training pushes the desirable rewards above the
    /// undesirable ones and the loss down.
    func testRewardsSeparate() throws {
        for lossType in KTOLossType.allCases {
            let model = try SFTFixtures.model()
            try model.addLoRA(LoRAOptions(r: 8, alpha: 16, dropout: 0, seed: 1))
            var config = config(steps: 15, output: lossType.rawValue, lossType: lossType)
            config.training.learningRate = 1e-2
            let kto = try KTO(model: model, train: try colourRows(mismatchedBatchSize: lossType.estimatesKL ? 4 : nil),
                              config: config, reference: .adaptersDisabled(model))
            let history = try Trainer(algorithm: kto, model: model, arguments: config.training).train().state.logHistory
            // A shuffled batch (apo_zero_unpaired) may hold one label only, and then logs no margin.
            let margins = history.compactMap { $0["rewards/margins"] }, losses = history.map { $0["loss"]! }
            print("KTO \(lossType.rawValue) margins \(margins.map { String(format: "%.3f", $0) }) losses \(losses.map { String(format: "%.3f", $0) })")
            XCTAssertEqual(losses.first!, 0.5, accuracy: 1e-6)
            XCTAssertEqual(history.first!["rewards/chosen"] ?? 0, 0, accuracy: 1e-5)
            XCTAssertEqual(history.first!["rewards/rejected"] ?? 0, 0, accuracy: 1e-5)
            XCTAssertEqual(history.first!["kl"]!, 0, accuracy: 1e-5)
            let lastEpoch = (margins.suffix(3).reduce(0, +) / 3, losses.suffix(3).reduce(0, +) / 3)
            XCTAssertGreaterThan(lastEpoch.0, 1, lossType.rawValue)
            XCTAssertLessThan(lastEpoch.1, 0.4, lossType.rawValue)
            XCTAssert(history.allSatisfy { $0["entropy"]! > 0 && ($0["logits/chosen"] != nil || $0["logits/rejected"] != nil) })
        }
    }

    /// `precompute_ref_log_probs` caches the reference log-probs (of the completions and the mismatched
    /// completions) in `output_dir`; a second run reads them, and training from them equals training
    /// with the reference scored every step; evaluation logs TRL's metrics with the `eval_` prefix.
    func testPrecomputedReferenceAndEvaluation() throws {
        let rows = try colourRows(mismatchedBatchSize: 4)
        func run(precompute: Bool, output: String) throws -> (KTO, [MetricsRecord]) {
            var config = config(steps: 3, output: output)
            config.precomputeRefLogProbs = precompute
            config.training.evalStrategy = .steps
            config.training.evalSteps = 1
            let model = try SFTFixtures.fullyTrainableModel()
            let kto = try KTO(model: model, train: rows, evaluation: Array(rows.prefix(8)), config: config,
                              reference: .frozen(try SFTFixtures.model()))
            return (kto, try Trainer(algorithm: kto, model: model, arguments: config.training).train().state.logHistory)
        }
        let (first, precomputed) = try run(precompute: true, output: "cached")
        XCTAssertEqual(first.precomputedTrain?.wasCached, false)
        XCTAssertEqual(first.precomputedTrain?.mismatched?.count, rows.count)
        var again = config(steps: 3, output: "cached")
        again.precomputeRefLogProbs = true
        let second = try KTO(model: try SFTFixtures.fullyTrainableModel(), train: rows, evaluation: Array(rows.prefix(8)),
                             config: again, reference: .frozen(try SFTFixtures.model()))
        XCTAssertEqual(second.precomputedTrain?.wasCached, true)
        XCTAssertEqual(second.precomputedEvaluation?.completions, first.precomputedEvaluation?.completions)
        let (_, scored) = try run(precompute: false, output: "scored")
        for key in ["loss", "eval_loss", "eval_kl", "eval_rewards/chosen"] {
            let a = scored.compactMap { $0[key] }, b = precomputed.compactMap { $0[key] }
            XCTAssertEqual(a.count, 3, key)
            for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-6 * max(1, abs(x)), key) }
        }
    }

    /// A run stopped after step 2 (checkpointed) and resumed ends with the weights of a run that went
    /// straight through: sequential batches and their mismatched completions are a pure function of
    /// the step, and the precomputed reference log-probs are read back from the cache.
    func testResumeContinuesExactly() throws {
        let rows = try colourRows(mismatchedBatchSize: 4)
        func run(_ output: String, stopAt: Int? = nil, resume: Bool = false) throws -> LanguageModel {
            var config = config(steps: 5, output: output)
            config.precomputeRefLogProbs = true
            config.training.saveStrategy = .steps
            config.training.saveSteps = 1
            if resume { config.training.resumeFromCheckpoint = "true" }
            let model = try SFTFixtures.model()
            try model.addLoRA(LoRAOptions(r: 4, alpha: 8, dropout: 0, seed: 3))
            let kto = try KTO(model: model, train: rows, config: config)
            let trainer = try Trainer(algorithm: kto, model: model, arguments: config.training)
            if let stopAt {
                XCTAssertEqual(try trainer.trainRecording(stoppingAt: stopAt).outcome.status, .stopped)
            } else {
                _ = try trainer.train()
            }
            return model
        }
        let straight = try run("straight")
        _ = try run("resumed", stopAt: 2)
        let resumed = try run("resumed", resume: true)
        XCTAssertEqual(maxDifference(resumed.trainableParameters, straight.trainableParameters), 0)
    }

    /// Micro-batches follow the file with `sequential` (every epoch the same) and are shuffled with `random`.
    func testSamplingOrder() throws {
        let model = try SFTFixtures.model()
        try model.addLoRA(LoRAOptions(r: 2, alpha: 4, dropout: 0, seed: 1))
        let sequential = try KTO(model: model, train: try colourRows(mismatchedBatchSize: 4), config: config(steps: 1, output: "s"))
        let position = StepPosition(step: 3, epoch: 1, microBatches: 0..<3)
        XCTAssertEqual(try sequential.microBatches(for: position).map(\.indices), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]])
        let random = try KTO(model: model, train: try colourRows(mismatchedBatchSize: nil),
                             config: config(steps: 1, output: "r", lossType: .apoZeroUnpaired))
        let shuffled = try random.microBatches(for: position).map(\.indices)
        XCTAssertEqual(shuffled.flatMap { $0 }.sorted(), Array(0..<12))
        XCTAssertNotEqual(shuffled.flatMap { $0 }, Array(0..<12))
    }

    /// TRL's rules: the kto loss needs sequential sampling and at least two rows per micro-batch;
    /// apo_zero_unpaired has no KL term and needs neither.
    func testConfigChecks() throws {
        let defaults = try resolve(KTOConfig.self, "", preset: .trl)
        assertMessages(defaults.report, [], "defaults")
        XCTAssertEqual(defaults.config.training.trainSamplingStrategy, .sequential)
        XCTAssertEqual(defaults.config.training.learningRate, 1e-6)
        assertMessages(try resolve(KTOConfig.self, "").report, [], "Unsloth's defaults")
        assertMessages(try resolve(KTOConfig.self, "train_sampling_strategy: random").report,
                       [.error("train_sampling_strategy", "sequential")], "random order")
        assertMessages(try resolve(KTOConfig.self, "per_device_train_batch_size: 1").report,
                       [.error("per_device_train_batch_size", "at least 2 rows")], "batch of one")
        assertMessages(try resolve(KTOConfig.self, "loss_type: apo_zero_unpaired\ntrain_sampling_strategy: random\n"
                                       + "per_device_train_batch_size: 1").report, [], "apo_zero_unpaired")
        assertMessages(try resolve(KTOConfig.self, "loss_type: sigmoid").report, [.error("loss_type", "kto")], "DPO's loss")
        assertMessages(try resolve(KTOConfig.self, "beta: 0").report, [.error("beta", "positive")], "beta")
        assertMessages(try resolve(DPOConfig.self, "desirable_weight: 2").report,
                       [.error("desirable_weight", "KTOConfig")], "a KTO field in a DPO config")
    }

    /// The library factory (what `fledge kto` runs): the training and test splits tokenized with their
    /// mismatched sequences over batches of the training batch size, LoRA on the model, a line naming
    /// the data, and TRL's advice on the weights of this unbalanced split (3 desirable, 2 undesirable).
    func testPreparedFromItsConfig() throws {
        let data = directory.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let rows = KTOReferenceTests.fixtures.appendingPathComponent("strings.jsonl")
        for split in ["train", "test"] {
            try FileManager.default.copyItem(at: rows, to: data.appendingPathComponent("\(split).jsonl"))
        }
        let resolved = try resolve(KTOConfig.self, """
            model_name_or_path: \(KTOReferenceTests.modelDirectory.path)
            dataset_name: \(data.path)
            output_dir: \(directory.appendingPathComponent("run").path)
            use_peft: true
            max_length: 64
            per_device_train_batch_size: 3
            per_device_eval_batch_size: 2
            eval_strategy: steps
            eval_steps: 1
            """)
        XCTAssert(resolved.report.isUsable, "\(resolved.report.messages)")
        var lines: [String] = []
        let kto = try KTO.prepare(resolved.config, progress: { lines.append($0) }).algorithm
        let expected = try KTOReferenceTests.rows("strings", maxLength: 64, mismatchedBatchSize: 3).rows
        XCTAssertEqual(kto.train, expected)
        XCTAssertEqual(kto.evaluation, expected)
        XCTAssertTrue(kto.model.hasAdapters)
        XCTAssertEqual(lines.first, "5 text rows from \(data.path)/train.jsonl (3 desirable, 2 undesirable), 5 for evaluation")
        XCTAssertEqual(lines.dropFirst().first?.hasPrefix("warning: the training split has 3 desirable and 2 undesirable rows"), true,
                       "\(lines)")
    }

    /// TRL's advice on the weights of an unbalanced split (Eq. (8) of the KTO paper).
    func testWeightAdvice() {
        var config = KTOConfig()
        XCTAssertNil(config.weightAdvice(desirable: 5, rows: 10), "balanced")
        let advice = config.weightAdvice(desirable: 10, rows: 40)
        XCTAssert(advice?.contains("desirable_weight in [3.0, 3.99]") == true, advice ?? "no advice")
        XCTAssert(advice?.contains("undesirable_weight in [0.25, 0.33]") == true, advice ?? "no advice")
        config.desirableWeight = 3.5
        XCTAssertNil(config.weightAdvice(desirable: 10, rows: 40))
        config.desirableWeight = 1
        config.undesirableWeight = 0.3
        XCTAssertNil(config.weightAdvice(desirable: 10, rows: 40))
    }

    /// Paired rows are unpaired in chunks of 1,000 rows, as TRL's batched `map` does: each chunk's
    /// chosen completions (labelled true), then its rejected ones.
    func testPairedRowsAreUnpairedInChunks() throws {
        let rows = (0..<1001).map { #"{"prompt": "row \#($0):", "chosen": " yes", "rejected": " no"}"# }
        let encoder = UnpairedPreferenceEncoder(tokenizer: try SFTFixtures.tokenizer(), maxLength: 64)
        let dataset = try UnpairedPreferenceDataset(file: try writeLines(rows, to: "paired.jsonl"), encoder: encoder,
                                                    mismatchedBatchSize: nil)
        XCTAssertEqual(dataset.rows.count, 2002)
        XCTAssertEqual(dataset.rows.map(\.label), Array(repeating: true, count: 1000) + Array(repeating: false, count: 1000) + [true, false])
        let tokenizer = try SFTFixtures.tokenizer()
        func prompt(_ row: UnpairedSequence) -> String { tokenizer.decode(Array(row.sequence.ids[..<row.sequence.completionStart])) }
        XCTAssertEqual(prompt(dataset.rows[1000]), "row 0:")
        XCTAssertEqual(prompt(dataset.rows[2000]), "row 1000:")
        XCTAssertEqual(prompt(dataset.rows[2001]), "row 1000:")
    }

    /// Bad rows name the file, the line and what the row needs.
    func testDataErrors() throws {
        let encoder = UnpairedPreferenceEncoder(tokenizer: try SFTFixtures.tokenizer(), maxLength: 64)
        let cases: [(String, String)] = [
            (#"{"prompt": "a", "completion": " b", "label": "yes"}"#, "'label' is a string; it must be true"),
            (#"{"prompt": "a", "completion": " b", "label": 2}"#, "'label' is the integer 2"),
            (#"{"prompt": "a", "chosen": " b", "rejected": " c"}"#, "a paired (chosen/rejected) row, and the first row is unpaired"),
            (#"{"prompt": "a", "completion": [{"role": "assistant", "content": "b"}], "label": true}"#, "both must be strings"),
        ]
        for (index, (row, message)) in cases.enumerated() {
            let file = try writeLines([#"{"prompt": "x", "completion": " y", "label": 1}"#, row], to: "bad\(index).jsonl")
            XCTAssertThrowsError(try UnpairedPreferenceDataset(file: file, encoder: encoder, mismatchedBatchSize: 2)) { error in
                let text = "\(error)"
                XCTAssert(text.contains(message) && text.contains("bad\(index).jsonl:2:"), text)
            }
        }
    }

    /// `neftune_noise_alpha` noises the policy's pass, the KL pass over mismatched completions and, with
    /// LoRA, the reference passes (TRL's training-mode forwards), not evaluation: the loss changes, the
    /// same seed gives the same loss, another seed another, a larger α moves it further on average.
    func testNEFTuneNoisesTrainingPasses() throws {
        let rows = try colourRows(mismatchedBatchSize: 4)
        func kto(alpha: Double?) throws -> KTO {
            var config = config(steps: 1, output: "neftune")
            config.neftuneNoiseAlpha = alpha
            let model = try SFTFixtures.model()
            try model.addLoRA(LoRAOptions(r: 4, alpha: 8, dropout: 0, seed: 3))
            return try KTO(model: model, train: rows, evaluation: Array(rows.prefix(4)), config: config,
                           reference: .adaptersDisabled(model))
        }
        let clean = try kto(alpha: nil), five = try kto(alpha: 5), fifty = try kto(alpha: 50)
        let batch = RowMicroBatch(indices: [0, 1, 2, 3], noiseSeed: 7)
        let plain = try clean.loss(of: batch).loss.item()
        let first = try five.loss(of: batch).loss.item()
        XCTAssertNotEqual(first, plain)
        XCTAssertEqual(first, try five.loss(of: batch).loss.item())
        XCTAssertNotEqual(try five.loss(of: RowMicroBatch(indices: [0, 1, 2, 3], noiseSeed: 8)).loss.item(), first)
        var small = 0.0, large = 0.0
        for seed in 0..<6 as Range<UInt64> {
            let batch = RowMicroBatch(indices: [0, 1, 2, 3], noiseSeed: seed)
            small += Double(abs(try five.loss(of: batch).loss.item() - plain))
            large += Double(abs(try fifty.loss(of: batch).loss.item() - plain))
        }
        XCTAssertGreaterThan(large, small)
        XCTAssertEqual(try clean.evaluate()?["loss"], try five.evaluate()?["loss"])
    }
}
