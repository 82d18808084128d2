import FledgeLM
import FledgeTensor
import XCTest
@testable import FledgeRL

/// The tiny Phi-3 fixture (fused `qkv_proj` and `gate_up_proj`, LongRoPE, a sliding window) end to
/// end: `fledge score` and `fledge generate` read its directory unchanged, and GRPO with LoRA trains
/// it (finite metrics, an adapter in PEFT's format under the fused module names), as short SFT and
/// DPO runs with LoRA on the fused projections do.
final class Phi3EndToEndTests: TemporaryDirectoryTestCase {
    func testShortGRPORunOnPhi3HasFiniteMetricsAndWritesAPEFTAdapter() throws {
        // The fixture has no tokenizer: borrow the demo's (ids it does not know decode to nothing).
        let model = try familyModelWithDemoTokenizer("phi3")
        let trained = try trainShortGRPORun(model, output: directory.appendingPathComponent("run"), settings: [
            "lora_r": "4", "num_generations": "4", "max_completion_length": "20",
        ], metrics: ["loss", "grad_norm", "reward", "kl", "entropy", "completions/mean_length"], label: "phi3") { _ in
            ArithmeticTask().problems(count: 2, seed: 5).map { problem in
                // Prompts of 20 tokens: completions cross original_max_position_embeddings (24).
                PromptDataset.Row(prompt: .string(problem.prompt), promptIds: (0..<20).map { 3 + ($0 * 7) % 170 },
                                  columns: JSONObject([("answer", .string(problem.answer))]))
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
        try checkScoreAndGenerateCommands("phi3", scoreIndex: 1)
    }

    func testShortSFTAndDPORunsTrainOnPhi3() throws {
        try trainShortSFTAndDPORuns("phi3")
    }
}
