import FledgeLM
import FledgeTensor
import XCTest
@testable import FledgeRL

/// The tiny Phi-3 fixture (fused `qkv_proj` and `gate_up_proj`, LongRoPE, a sliding window) end to
/// end: `fledge score` and `fledge generate` read its directory unchanged, and GRPO with LoRA trains
/// it (finite metrics, an adapter in PEFT's format under the fused module names).
final class Phi3EndToEndTests: TemporaryDirectoryTestCase {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../FledgeLMTests/Fixtures/families/phi3").standardizedFileURL

    func testShortGRPORunOnPhi3HasFiniteMetricsAndWritesAPEFTAdapter() throws {
        // The fixture has no tokenizer: borrow the demo's (ids it does not know decode to nothing).
        let model = directory.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        for file in ["config.json", "generation_config.json", "model.safetensors"] {
            try FileManager.default.copyItem(at: Self.fixture.appendingPathComponent(file), to: model.appendingPathComponent(file))
        }
        for file in ["tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(at: GRPOTrainingTests.modelDirectory.appendingPathComponent(file),
                                             to: model.appendingPathComponent(file))
        }
        let settings = [
            "model_name_or_path": model.path, "output_dir": directory.path + "/run", "use_peft": "true", "lora_r": "4",
            "lora_target_modules": "all-linear", "reward_funcs": "[answer]", "per_device_train_batch_size": "4",
            "gradient_accumulation_steps": "1", "num_generations": "4", "max_completion_length": "20", "beta": "0.04",
            "learning_rate": "0.003", "logging_steps": "1", "save_strategy": "\"no\"", "max_steps": "2",
        ]
        let resolved = try resolve(GRPOConfig.self, settings.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "\n"))
        XCTAssert(resolved.report.isUsable, "\(resolved.report.messages)")
        let config = resolved.config
        let trained = try TrainingModels.load(config.run, seed: config.training.seed, gradientCheckpointing: true)
        let tokenizer = try TrainingModels.tokenizer(config.run)
        let rows = ArithmeticTask().problems(count: 2, seed: 5).map { problem in
            // Prompts of 20 tokens: completions cross original_max_position_embeddings (24).
            PromptDataset.Row(prompt: .string(problem.prompt), promptIds: (0..<20).map { 3 + ($0 * 7) % 170 },
                              columns: JSONObject([("answer", .string(problem.answer))]))
        }
        let grpo = try GRPO(model: trained, tokenizer: tokenizer, dataset: PromptDataset(rows: rows, file: URL(fileURLWithPath: "(test)")),
                            rewards: try BuiltInRewards.make(config: config), config: config)
        let records = try Trainer(algorithm: grpo, model: trained, arguments: config.training).train().state.logHistory
        XCTAssertEqual(records.count, 2)
        for record in records {
            let values = Dictionary(record.values.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
            for name in ["loss", "grad_norm", "reward", "kl", "entropy", "completions/mean_length"] {
                XCTAssert(values[name]?.isFinite ?? false, "\(name) is \(String(describing: values[name]))")
            }
        }
        let adapter = directory.appendingPathComponent("adapter")
        try trained.saveTrainedWeights(to: adapter)
        let adapterConfig = try JSONSerialization.jsonObject(with: Data(contentsOf: adapter.appendingPathComponent("adapter_config.json")))
        XCTAssertEqual((adapterConfig as! [String: Any])["target_modules"] as? [String], ["o_proj", "qkv_proj", "gate_up_proj", "down_proj"])
        let weights = try SafeTensorsFile(url: adapter.appendingPathComponent("adapter_model.safetensors"))
        XCTAssertTrue(weights.names.contains("base_model.model.model.layers.2.self_attn.qkv_proj.lora_B.weight"), "\(weights.names)")
        XCTAssertTrue(weights.names.contains("base_model.model.model.layers.0.mlp.gate_up_proj.lora_A.weight"), "\(weights.names)")
        let reloaded = try LanguageModel(directory: model)
        try reloaded.loadAdapter(from: adapter)
        XCTAssertTrue(reloaded.hasAdapters)
    }

    func testScoreAndGenerateCommandsReadThePhi3DirectoryUnchanged() throws {
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixture.appendingPathComponent("expected.json")))
        let fixture = expected as! [String: Any]
        let score = (fixture["score"] as! [[String: Any]])[1]
        let ids = (score["ids"] as! [NSNumber]).map(\.intValue)
        let scored = try runFledge(["score", "--model", Self.fixture.path, "--ids", ids.map(String.init).joined(separator: ",")])
        let line = try XCTUnwrap(scored.output.split(separator: "\n").first { $0.hasPrefix("{\"logprobs\"") }, scored.output)
        let logProbs = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["logprobs"] as? [Double])
        let reference = (score["logprobs"] as! [NSNumber]).map(\.doubleValue)
        XCTAssertEqual(logProbs.count, reference.count)
        for (got, want) in zip(logProbs, reference) { XCTAssertEqual(got, want, accuracy: 1e-4) }
        let greedy = fixture["greedy"] as! [String: Any]
        let prompt = (greedy["prompts"] as! [[NSNumber]])[0].map(\.intValue)
        let generated = try runFledge(["generate", "--model", Self.fixture.path, "--ids", prompt.map(String.init).joined(separator: ","),
                                       "--greedy", "--max-new-tokens", "30", "--json"])
        let newIds = (greedy["new_ids"] as! [[NSNumber]])[0].map(\.intValue)
        XCTAssertTrue(generated.output.contains(newIds.map(String.init).joined(separator: ",")), generated.output)
    }
}
