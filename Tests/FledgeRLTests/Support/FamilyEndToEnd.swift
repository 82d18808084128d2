import FledgeLM
import FledgeTensor
import Foundation
import XCTest
@testable import FledgeRL

/// The model-family fixtures of Tests/FledgeLMTests/Fixtures/families end to end: through the
/// `fledge` command line and short GRPO, SFT and DPO runs with LoRA.
extension TemporaryDirectoryTestCase {
    /// The fixture directory `families/<family>`, unchanged.
    static func familyFixture(_ family: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../FledgeLMTests/Fixtures/families/\(family)").standardizedFileURL
    }

    /// Checks that `fledge score` gives transformers' log-probs (within 1e-4) of the fixture's
    /// `score` sequence `scoreIndex`, and `fledge generate` its 30 greedy tokens of the first prompt.
    func checkScoreAndGenerateCommands(_ family: String, scoreIndex: Int = 0, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = Self.familyFixture(family)
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: fixture.appendingPathComponent("expected.json"))) as! [String: Any]
        try checkScoreAndGenerateCommands(model: fixture, expected: expected, label: family, scoreIndex: scoreIndex, file: file, line: line)
    }

    /// Checks `fledge score` and `fledge generate` on `model` (a directory or a GGUF file) against
    /// `expected`'s `score` and `greedy` entries, as above (`ignoreEOS`: generating past end-of-sequence
    /// tokens; `options`: more options for both commands).
    func checkScoreAndGenerateCommands(model: URL, expected: [String: Any], label: String, scoreIndex: Int = 0, ignoreEOS: Bool = false,
                                       options: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws {
        let score = (expected["score"] as! [[String: Any]])[scoreIndex]
        let ids = (score["ids"] as! [Int]).map(String.init).joined(separator: ",")
        let scored = try lastJSONLine(of: runFledge(["score", "--model", model.path, "--ids", ids] + options).output, file: file, line: line)
        let logProbs = scored["logprobs"] as! [Double], reference = score["logprobs"] as! [Double]
        XCTAssertEqual(logProbs.count, reference.count, "\(label): fledge score", file: file, line: line)
        XCTAssertLessThan(zip(logProbs, reference).map { abs($0 - $1) }.max() ?? 1, 1e-4, "\(label): fledge score", file: file, line: line)
        let greedy = expected["greedy"] as! [String: Any]
        let prompt = (greedy["prompts"] as! [[Int]])[0].map(String.init).joined(separator: ",")
        let generated = try runFledge(["generate", "--model", model.path, "--ids", prompt, "--greedy", "--max-new-tokens", "30", "--json"]
                                      + (ignoreEOS ? ["--ignore-eos"] : []) + options)
        XCTAssertEqual(try lastJSONLine(of: generated.output, file: file, line: line)["ids"] as? [Int], (greedy["new_ids"] as! [[Int]])[0],
                       "\(label): fledge generate", file: file, line: line)
    }

    /// A copy of the fixture model (config, weights, generation config) in this test's directory
    /// with the demo's tokenizer beside it (its 14 tokens are ids the fixture vocabularies hold;
    /// ids beyond them decode to nothing).
    func familyModelWithDemoTokenizer(_ family: String) throws -> URL {
        let model = directory.appendingPathComponent(family)
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        for file in ["config.json", "model.safetensors", "generation_config.json"] {
            try FileManager.default.copyItem(at: Self.familyFixture(family).appendingPathComponent(file), to: model.appendingPathComponent(file))
        }
        for file in ["tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(at: GRPOTrainingTests.modelDirectory.appendingPathComponent(file),
                                             to: model.appendingPathComponent(file))
        }
        return model
    }

    /// Trains `model` with GRPO and LoRA on every linear layer for 2 steps (batches of 4, the
    /// `answer` reward, β 0.04, gradient checkpointing), `settings` adding to or overriding those,
    /// on the rows `rows` makes with the run's tokenizer; checks that both steps are logged with
    /// every `metrics` value finite, and returns the trained model.
    func trainShortGRPORun(_ model: URL, output: URL, settings: [String: String], metrics: [String], label: String,
                           rows: (Tokenizer) -> [PromptDataset.Row], file: StaticString = #filePath, line: UInt = #line) throws -> LanguageModel {
        let shared = [
            "model_name_or_path": model.path, "output_dir": output.path, "use_peft": "true", "lora_target_modules": "all-linear",
            "reward_funcs": "[answer]", "per_device_train_batch_size": "4", "gradient_accumulation_steps": "1", "beta": "0.04",
            "learning_rate": "0.003", "logging_steps": "1", "save_strategy": "\"no\"", "max_steps": "2",
        ]
        let merged = shared.merging(settings) { $1 }
        let resolved = try resolve(GRPOConfig.self, merged.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "\n"))
        XCTAssert(resolved.report.isUsable, "\(resolved.report.messages)", file: file, line: line)
        let config = resolved.config
        let tokenizer = try TrainingModels.tokenizer(config.run)
        let grpo = try GRPO.prepare(config, dataset: PromptDataset(rows: rows(tokenizer), file: URL(fileURLWithPath: "(test)")))
        let records = try grpo.trainer().train().state.logHistory
        XCTAssertEqual(records.count, 2, label, file: file, line: line)
        for record in records {
            let values = Dictionary(record.values.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
            for name in metrics {
                XCTAssert(values[name]?.isFinite ?? false, "\(label): \(name) is \(String(describing: values[name]))", file: file, line: line)
            }
        }
        return grpo.algorithm.model
    }

    /// Short SFT and DPO runs (2 steps each) with LoRA on every linear layer of the fixture model
    /// `family`, on sequences made of its `score` ids (completion from the fifth token; DPO's
    /// rejected completion is the chosen one reversed): finite losses, and DPO starts at log 2
    /// (policy = reference).
    func trainShortSFTAndDPORuns(_ family: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let model = Self.familyFixture(family)
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: model.appendingPathComponent("expected.json"))) as! [String: Any]
        let sequences = (expected["score"] as! [[String: Any]]).map { $0["ids"] as! [Int] }
        let lora = LoRAOptions(r: 4, alpha: 8, targetModules: [LoRAOptions.allLinear], seed: 1)

        let sftModel = try LanguageModel(directory: model)
        try sftModel.addLoRA(lora)
        var arguments = TrainingArguments()
        arguments.maxSteps = 2
        arguments.perDeviceTrainBatchSize = 2
        arguments.loggingSteps = 1
        arguments.saveStrategy = .no
        arguments.outputDir = directory.appendingPathComponent("sft-\(family)").path
        let sft = try SFT(model: sftModel, train: sequences.map { SFTSequence(ids: $0, trained: $0.indices.map { $0 >= 4 }) },
                          config: .batches(2, evaluation: 2, dataSeed: 1))
        let sftLosses = try Trainer(algorithm: sft, model: sftModel, arguments: arguments).train().state.logHistory.map { $0["loss"]! }
        XCTAssertEqual(sftLosses.count, 2, family, file: file, line: line)
        XCTAssert(sftLosses.allSatisfy(\.isFinite), "\(family): SFT losses \(sftLosses)", file: file, line: line)

        let dpoModel = try LanguageModel(directory: model)
        try dpoModel.addLoRA(lora)
        let pairs = sequences.map { ids in
            PreferencePair(chosen: CompletionSequence(ids: ids, completionStart: 4),
                           rejected: CompletionSequence(ids: Array(ids.prefix(4)) + ids.dropFirst(4).reversed(), completionStart: 4))
        }
        var config = DPOConfig()
        config.training.maxSteps = 2
        config.training.perDeviceTrainBatchSize = 3
        config.training.loggingSteps = 1
        config.training.saveStrategy = .no
        config.training.outputDir = directory.appendingPathComponent("dpo-\(family)").path
        let dpo = try DPO(model: dpoModel, train: pairs, config: config, reference: .adaptersDisabled(dpoModel))
        let dpoLosses = try Trainer(algorithm: dpo, model: dpoModel, arguments: config.training).train().state.logHistory.map { $0["loss"]! }
        XCTAssertEqual(dpoLosses.count, 2, family, file: file, line: line)
        XCTAssertEqual(dpoLosses[0], log(2), accuracy: 1e-6, family, file: file, line: line)
        XCTAssert(dpoLosses.allSatisfy(\.isFinite), "\(family): DPO losses \(dpoLosses)", file: file, line: line)
    }

    /// Rows of `count` arithmetic problems (seed `seed`) whose prompts `tokenizer` encodes.
    static func arithmeticRows(count: Int, seed: UInt64, _ tokenizer: Tokenizer) -> [PromptDataset.Row] {
        ArithmeticTask().problems(count: count, seed: seed).map { problem in
            PromptDataset.Row(prompt: .string(problem.prompt), promptIds: tokenizer.encode(problem.prompt, addSpecialTokens: true),
                              columns: JSONObject([("answer", .string(problem.answer))]))
        }
    }

    private func lastJSONLine(of output: String, file: StaticString, line: UInt) throws -> [String: Any] {
        let text = try XCTUnwrap(output.split(separator: "\n").last { $0.hasPrefix("{") }, output, file: file, line: line)
        return try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    }
}
