import Foundation
import XCTest
@testable import FledgeLM
import FledgeTensor

/// Bad model directories fail with errors that name the file, field or tensors at fault.
final class ModelDirectoryErrorTests: XCTestCase {
    private func editConfig(_ directory: URL, _ edit: (inout [String: Any]) -> Void) throws {
        let url = directory.appendingPathComponent("config.json")
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        edit(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: url)
    }

    private func loadError(_ directory: URL) -> String? {
        do {
            _ = try LanguageModel(directory: directory)
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// Rewrites model.safetensors with `transform` applied to its (name, tensor) list.
    private func editWeights(_ directory: URL, _ transform: ([(name: String, tensor: Tensor)]) -> [(name: String, tensor: Tensor)]) throws {
        let url = directory.appendingPathComponent("model.safetensors")
        let file = try SafeTensorsFile(url: url)
        let tensors = try file.names.map { (name: $0, tensor: try file.tensor($0).contiguous()) }
        let edited = transform(tensors).map { (name: $0.name, tensor: Tensor(shape: $0.tensor.shape, values: $0.tensor.toArray())) }
        try SafeTensorsWriter.write(edited, to: url)
    }

    func testUnknownModelTypeListsTheSupportedOnes() throws {
        let directory = try scratchCopy(of: "llama_gqa_bias_linear", self)
        try editConfig(directory) { $0["model_type"] = "gpt_neox" }
        let message = try XCTUnwrap(loadError(directory))
        XCTAssertTrue(message.contains("config.json"), message)
        XCTAssertTrue(message.contains("'gpt_neox'"), message)
        for name in ["llama", "mistral", "qwen2", "qwen3"] { XCTAssertTrue(message.contains("'\(name)'"), message) }
    }

    func testMissingConfigFieldIsNamed() throws {
        for field in ["hidden_size", "num_hidden_layers", "vocab_size", "model_type"] {
            let directory = try scratchCopy(of: "qwen3_qknorm", self)
            try editConfig(directory) { $0.removeValue(forKey: field) }
            let message = try XCTUnwrap(loadError(directory), field)
            XCTAssertTrue(message.contains("'\(field)'") && message.contains("missing"), message)
        }
    }

    func testBadConfigValuesAreNamed() throws {
        let directory = try scratchCopy(of: "llama_gqa_bias_linear", self)
        try editConfig(directory) { $0["rope_scaling"] = ["rope_type": "longrope", "factor": 2.0] }
        XCTAssertTrue(try XCTUnwrap(loadError(directory)).contains("'longrope'"))
        try editConfig(directory) { $0["rope_scaling"] = ["rope_type": "llama3", "factor": 2.0] }
        XCTAssertTrue(try XCTUnwrap(loadError(directory)).contains("rope_scaling.low_freq_factor"))
        try editConfig(directory) {
            $0.removeValue(forKey: "rope_scaling")
            $0["num_key_value_heads"] = 3
        }
        XCTAssertTrue(try XCTUnwrap(loadError(directory)).contains("'num_key_value_heads'"))
        try editConfig(directory) {
            $0["num_key_value_heads"] = 2
            $0["hidden_act"] = "gelu"
        }
        XCTAssertTrue(try XCTUnwrap(loadError(directory)).contains("'hidden_act'"))
    }

    /// Asserts that loading fails with an error naming config.json, `field` and every part.
    private func assertConfigError(_ directory: URL, field: String, _ parts: [String] = [],
                                   file: StaticString = #filePath, line: UInt = #line) throws {
        let message = try XCTUnwrap(loadError(directory), "expected an error naming '\(field)'", file: file, line: line)
        for part in ["config.json", "field '\(field)'"] + parts {
            XCTAssertTrue(message.contains(part), "'\(message)' does not mention '\(part)'", file: file, line: line)
        }
    }

    func testSizeFieldsWhoseProductsOverflowAreNamedNotTrapped() throws {
        let directory = try scratchCopy(of: "llama_gqa_bias_linear", self)
        let huge = 1 << 62
        for field in ["hidden_size", "intermediate_size", "vocab_size", "head_dim"] {
            let original = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("config.json")))
            try editConfig(directory) { $0[field] = field == "head_dim" ? huge : huge + 2 }
            try assertConfigError(directory, field: field, ["more than a 64-bit size holds"])
            try editConfig(directory) { $0 = original as! [String: Any] }
        }
        try editConfig(directory) { $0["num_attention_heads"] = huge; $0["num_key_value_heads"] = huge; $0["head_dim"] = 16 }
        try assertConfigError(directory, field: "num_attention_heads", ["more than a 64-bit size holds"])
    }

    func testAConfigFarLargerThanTheCheckpointIsReportedBeforeAnythingIsAllocated() throws {
        let directory = try scratchCopy(of: "llama_gqa_bias_linear", self)
        try editConfig(directory) { $0["hidden_size"] = 1 << 40 }
        let message = try XCTUnwrap(loadError(directory))
        XCTAssertTrue(message.contains("the checkpoint does not match config.json"), message)
        XCTAssertTrue(message.contains("model.embed_tokens.weight is [160, 48], expected [160, 1099511627776]"), message)
    }

    func testSizeFieldsMustBePositiveAndWithinRange() throws {
        let cases: [(String, Any, String)] = [
            ("head_dim", 0, "must be positive and even"), ("head_dim", -2, "must be positive and even"),
            ("max_position_embeddings", 0, "must be positive"), ("num_labels", 0, "must be positive"),
            ("sliding_window", -1, "must be positive"), ("num_hidden_layers", 1 << 40, "at most 65536 layers"),
            ("hidden_size", 1e30, "must be an integer, got 1e+30"), ("eos_token_id", [2, 1e300], "must hold integers"),
        ]
        for (field, value, problem) in cases {
            let directory = try scratchCopy(of: "mistral_sliding", self)
            try editConfig(directory) { $0[field] = value }
            try assertConfigError(directory, field: field, [problem])
        }
        let llama3 = try scratchCopy(of: "llama_gqa_bias_linear", self)
        try editConfig(llama3) {
            $0["rope_scaling"] = ["rope_type": "llama3", "factor": 2.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                  "original_max_position_embeddings": 1e300]
        }
        try assertConfigError(llama3, field: "original_max_position_embeddings", ["must be an integer"])
    }

    func testMissingConfigAndWeightFiles() throws {
        let directory = try scratchCopy(of: "mistral_sliding", self)
        try FileManager.default.removeItem(at: directory.appendingPathComponent("model.safetensors"))
        XCTAssertTrue(try XCTUnwrap(loadError(directory)).contains("model.safetensors"))
        try FileManager.default.removeItem(at: directory.appendingPathComponent("config.json"))
        XCTAssertTrue(try XCTUnwrap(loadError(directory)).contains("config.json"))

        let sharded = try scratchCopy(of: "llama_dynamic_sharded", self)
        try FileManager.default.removeItem(at: sharded.appendingPathComponent("model-00003-of-00007.safetensors"))
        XCTAssertTrue(try XCTUnwrap(loadError(sharded)).contains("model-00003-of-00007.safetensors"))
    }

    func testMissingMisshapenAndUnusedWeightsAreAllNamed() throws {
        let directory = try scratchCopy(of: "llama_gqa_bias_linear", self)
        try editWeights(directory) { tensors in
            var result = tensors.filter { $0.name != "model.layers.1.mlp.up_proj.weight" }
            if let index = result.firstIndex(where: { $0.name == "model.layers.0.self_attn.k_proj.weight" }) {
                result[index].tensor = Tensor.zeros([31, 48])
            }
            result.append((name: "model.layers.0.self_attn.extra.weight", tensor: Tensor.zeros([2])))
            return result
        }
        let message = try XCTUnwrap(loadError(directory))
        XCTAssertTrue(message.contains("missing weights: model.layers.1.mlp.up_proj.weight"), message)
        XCTAssertTrue(message.contains("model.layers.0.self_attn.k_proj.weight is [31, 48], expected [32, 48]"), message)
        XCTAssertTrue(message.contains("does not use: model.layers.0.self_attn.extra.weight"), message)
    }

    func testAnUntiedConfigOnATiedCheckpointNamesTheHead() throws {
        let directory = try scratchCopy(of: "qwen2_bias_tied_fp16", self)
        try editConfig(directory) { $0["tie_word_embeddings"] = false }
        XCTAssertTrue(try XCTUnwrap(loadError(directory)).contains("missing weights: lm_head.weight"))
    }
}
