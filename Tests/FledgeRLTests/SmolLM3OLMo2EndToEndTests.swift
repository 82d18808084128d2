import FledgeLM
import FledgeTensor
import XCTest
@testable import FledgeRL

/// The SmolLM3 and OLMo 2 fixture directories, unchanged, through the command line and GRPO:
/// `fledge score` and `fledge generate` give transformers' log-probs and greedy tokens, and a
/// short GRPO run trains (tiny random models: only finite metrics are asked of them) and writes
/// the LoRA adapter in PEFT's format (the tensor names of the fixture's PEFT adapter on the same
/// all-linear targets, with an adapter_config.json that loads back); short SFT and DPO runs train.
final class SmolLM3OLMo2EndToEndTests: TemporaryDirectoryTestCase {
    static let families = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().appendingPathComponent("../FledgeLMTests/Fixtures/families").standardizedFileURL

    func testScoreAndGenerateCommandsReadTheFixtureDirectories() throws {
        for family in ["smollm3", "olmo2"] {
            let model = Self.families.appendingPathComponent(family)
            let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: model.appendingPathComponent("expected.json"))) as! [String: Any]
            let score = (expected["score"] as! [[String: Any]])[0]
            let ids = (score["ids"] as! [Int]).map(String.init).joined(separator: ",")
            let scored = try runFledge(["score", "--model", model.path, "--ids", ids]).output
            let line = try XCTUnwrap(scored.split(separator: "\n").last { $0.hasPrefix("{") }, scored)
            let logProbs = (try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any])["logprobs"] as! [Double]
            let reference = score["logprobs"] as! [Double]
            XCTAssertEqual(logProbs.count, reference.count, family)
            XCTAssertLessThan(zip(logProbs, reference).map { abs($0 - $1) }.max() ?? 1, 1e-4, family)
            let greedy = expected["greedy"] as! [String: Any]
            let prompt = (greedy["prompts"] as! [[Int]])[0].map(String.init).joined(separator: ",")
            let generated = try runFledge(["generate", "--model", model.path, "--ids", prompt, "--greedy", "--max-new-tokens", "30",
                                           "--json"]).output
            let result = try XCTUnwrap(generated.split(separator: "\n").last { $0.hasPrefix("{") }, generated)
            XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(result.utf8)) as! [String: Any])["ids"] as? [Int],
                           (greedy["new_ids"] as! [[Int]])[0], family)
        }
    }

    func testShortGRPORunsTrainAndWritePEFTAdapters() throws {
        for family in ["smollm3", "olmo2"] {
            let model = try modelWithDemoTokenizer(family)
            let output = directory.appendingPathComponent("run-\(family)")
            let settings = [
                "model_name_or_path": model.path, "output_dir": output.path, "use_peft": "true", "lora_r": "4",
                "lora_target_modules": "all-linear", "reward_funcs": "[answer]", "per_device_train_batch_size": "4",
                "gradient_accumulation_steps": "1", "num_generations": "2", "max_completion_length": "4", "max_steps": "2",
                "learning_rate": "0.003", "logging_steps": "1", "save_strategy": "\"no\"", "beta": "0.04",
                "gradient_checkpointing": "true",
            ]
            let resolved = try resolve(GRPOConfig.self, settings.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
                .joined(separator: "\n"))
            XCTAssert(resolved.report.isUsable, "\(resolved.report.messages)")
            let config = resolved.config
            let policy = try TrainingModels.load(config.run, seed: config.training.seed, gradientCheckpointing: true)
            let tokenizer = try TrainingModels.tokenizer(config.run)
            let rows = ArithmeticTask().problems(count: 4, seed: 3).map { problem in
                PromptDataset.Row(prompt: .string(problem.prompt), promptIds: tokenizer.encode(problem.prompt, addSpecialTokens: true),
                                  columns: JSONObject([("answer", .string(problem.answer))]))
            }
            let grpo = try GRPO(model: policy, tokenizer: tokenizer, dataset: PromptDataset(rows: rows, file: URL(fileURLWithPath: "(problems)")),
                                rewards: try BuiltInRewards.make(config: config), config: config)
            let records = try Trainer(algorithm: grpo, model: policy, arguments: config.training).train().state.logHistory
            XCTAssertEqual(records.count, 2, family)
            for record in records {
                let values = Dictionary(record.values.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
                for name in ["loss", "grad_norm", "reward", "kl", "entropy"] {
                    XCTAssert(values[name]?.isFinite ?? false, "\(family): \(name) is \(String(describing: values[name]))")
                }
            }
            let written = try SafeTensorsFile(url: output.appendingPathComponent("adapter_model.safetensors"))
            let peft = try SafeTensorsFile(url: Self.families.appendingPathComponent("\(family)/peft_adapter/adapter_model.safetensors"))
            XCTAssertEqual(written.names, peft.names, "\(family): the adapter's tensors are named as PEFT names them")
            let reloaded = try LanguageModel(directory: model)
            try reloaded.loadAdapter(from: output)
            XCTAssertTrue(reloaded.hasAdapters, family)
        }
    }

    /// SFT and DPO with LoRA on every linear layer, on sequences made of the fixture's `score` ids
    /// (completion from the fifth token): finite losses, and DPO starts at log 2 (policy = reference).
    func testShortSFTAndDPORunsTrain() throws {
        for family in ["smollm3", "olmo2"] {
            let model = Self.families.appendingPathComponent(family)
            let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: model.appendingPathComponent("expected.json"))) as! [String: Any]
            let sequences = (expected["score"] as! [[String: Any]]).map { $0["ids"] as! [Int] }
            let targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

            let sftModel = try LanguageModel(directory: model)
            try sftModel.addLoRA(LoRAOptions(r: 4, alpha: 8, targetModules: targets, seed: 1))
            var arguments = TrainingArguments()
            arguments.maxSteps = 2
            arguments.perDeviceTrainBatchSize = 2
            arguments.loggingSteps = 1
            arguments.saveStrategy = .no
            arguments.outputDir = directory.appendingPathComponent("sft-\(family)").path
            let sft = try SFT(model: sftModel, train: sequences.map { SFTSequence(ids: $0, trained: $0.indices.map { $0 >= 4 }) },
                              batchSize: 2, evaluationBatchSize: 2, dataSeed: 1)
            let sftLosses = try Trainer(algorithm: sft, model: sftModel, arguments: arguments).train().state.logHistory.map { $0["loss"]! }
            XCTAssertEqual(sftLosses.count, 2, family)
            XCTAssert(sftLosses.allSatisfy(\.isFinite), "\(family): SFT losses \(sftLosses)")

            let dpoModel = try LanguageModel(directory: model)
            try dpoModel.addLoRA(LoRAOptions(r: 4, alpha: 8, targetModules: targets, seed: 1))
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
            XCTAssertEqual(dpoLosses.count, 2, family)
            XCTAssertEqual(dpoLosses[0], log(2), accuracy: 1e-6, family)
            XCTAssert(dpoLosses.allSatisfy(\.isFinite), "\(family): DPO losses \(dpoLosses)")
        }
    }

    /// The fixture model with the demo's tokenizer beside it (its 14 tokens are ids the fixture
    /// vocabularies hold; ids beyond them decode to nothing).
    private func modelWithDemoTokenizer(_ family: String) throws -> URL {
        let model = directory.appendingPathComponent(family)
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        let source = Self.families.appendingPathComponent(family)
        for file in ["config.json", "model.safetensors", "generation_config.json"] {
            try FileManager.default.copyItem(at: source.appendingPathComponent(file), to: model.appendingPathComponent(file))
        }
        for file in ["tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(at: GRPOTrainingTests.modelDirectory.appendingPathComponent(file),
                                             to: model.appendingPathComponent(file))
        }
        return model
    }
}
