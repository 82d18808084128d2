@testable import FledgeLM
import FledgeTensor
import XCTest
@testable import FledgeRL

/// The Gemma 2 and Gemma 3 text fixture directories (Tests/FledgeLMTests/Fixtures/families) work
/// unchanged through `fledge score` and `fledge generate`, and GRPO trains LoRA on them: finite
/// metrics and an adapter written in PEFT's format.
final class GemmaFamilyTests: TemporaryDirectoryTestCase {
    static let families = ["gemma2", "gemma3_text"]

    static func fixture(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../FledgeLMTests/Fixtures/families/\(name)").standardizedFileURL
    }

    static func json(_ url: URL) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    static func json(_ text: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    }

    func testGemmaDirectoriesScoreAndGenerateThroughTheCommandLine() throws {
        for family in Self.families {
            let expected = try Self.json(Self.fixture(family).appendingPathComponent("expected.json"))
            let first = (expected["score"] as! [[String: Any]])[0]
            let ids = first["ids"] as! [Int], reference = first["logprobs"] as! [Double]
            let score = try runFledge(["score", "--model", Self.fixture(family).path, "--ids", ids.map(String.init).joined(separator: ",")])
            let got = try Self.json(score.output)["logprobs"] as! [Double]
            XCTAssertEqual(got.count, reference.count, family)
            for (a, e) in zip(got, reference) { XCTAssertEqual(a, e, accuracy: 1e-4, "\(family): fledge score") }
            let greedy = expected["greedy"] as! [String: Any]
            let prompt = (greedy["prompts"] as! [[Int]])[0]
            let generated = try runFledge(["generate", "--model", Self.fixture(family).path, "--greedy", "--max-new-tokens", "30",
                                           "--json", "--ids", prompt.map(String.init).joined(separator: ",")])
            XCTAssertEqual(try Self.json(generated.output)["ids"] as? [Int], (greedy["new_ids"] as! [[Int]])[0], "\(family): fledge generate")
        }
    }

    func testGRPOTrainsLoRAOnGemmaFamilies() throws {
        let demo = GRPOTrainingTests.modelDirectory
        for family in Self.families {
            // The fixture with the demo's arithmetic tokenizer (14 ids, all inside the fixture's vocabulary).
            let model = directory.appendingPathComponent(family)
            try FileManager.default.copyItem(at: Self.fixture(family), to: model)
            for file in ["tokenizer.json", "tokenizer_config.json"] {
                try FileManager.default.copyItem(at: demo.appendingPathComponent(file), to: model.appendingPathComponent(file))
            }
            let output = directory.appendingPathComponent("run-\(family)")
            let settings = [
                "model_name_or_path": model.path, "output_dir": output.path, "use_peft": "true", "lora_target_modules": "all-linear",
                "reward_funcs": "[answer]", "per_device_train_batch_size": "4", "gradient_accumulation_steps": "1",
                "num_generations": "2", "max_completion_length": "5", "learning_rate": "0.003", "logging_steps": "1",
                "save_strategy": "\"no\"", "gradient_checkpointing": "true", "max_steps": "2", "beta": "0.04",
            ]
            let resolved = try resolve(GRPOConfig.self, settings.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "\n"))
            XCTAssert(resolved.report.isUsable, "\(resolved.report.messages)")
            let config = resolved.config
            let trained = try TrainingModels.load(config.run, seed: config.training.seed, gradientCheckpointing: true)
            let tokenizer = try TrainingModels.tokenizer(config.run)
            let rows = ArithmeticTask().problems(count: 4, seed: 3).map { problem in
                PromptDataset.Row(prompt: .string(problem.prompt), promptIds: tokenizer.encode(problem.prompt, addSpecialTokens: true),
                                  columns: JSONObject([("answer", .string(problem.answer))]))
            }
            let grpo = try GRPO(model: trained, tokenizer: tokenizer, dataset: PromptDataset(rows: rows, file: URL(fileURLWithPath: "(test)")),
                                rewards: try BuiltInRewards.make(config: config), config: config)
            let records = try Trainer(algorithm: grpo, model: trained, arguments: config.training).train().state.logHistory
            XCTAssertEqual(records.count, 2, family)
            for record in records {
                let values = Dictionary(record.values.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
                for name in ["loss", "grad_norm", "reward", "entropy", "kl", "completions/mean_length"] {
                    XCTAssert(values[name]?.isFinite ?? false, "\(family): \(name) is \(String(describing: values[name]))")
                }
            }
            let adapterConfig = try JSONParser.parse([UInt8](Data(contentsOf: output.appendingPathComponent("adapter_config.json"))))
            XCTAssertEqual(adapterConfig["peft_type"], .string("LORA"), family)
            XCTAssertEqual(adapterConfig["task_type"], .string("CAUSAL_LM"), family)
            let weights = try SafeTensorsFile(url: output.appendingPathComponent("adapter_model.safetensors"))
            XCTAssertEqual(weights.names.count, 4 * 7 * 2, "\(family): lora_A and lora_B of 7 projections in 4 layers")
            XCTAssert(weights.names.contains("base_model.model.model.layers.0.mlp.gate_proj.lora_A.weight"), "\(family): \(weights.names)")
            let reloaded = try LanguageModel(directory: Self.fixture(family))
            try reloaded.loadAdapter(from: output)
            XCTAssertEqual(reloaded.loraModules.count, 28, family)
        }
    }
}
