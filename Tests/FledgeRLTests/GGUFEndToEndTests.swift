import FledgeLM
import Foundation
import XCTest
@testable import FledgeRL

/// GGUF files wherever a model directory is accepted: `fledge score` and `fledge generate --model
/// x.gguf` give transformers' log-probs and greedy tokens for the same file, and a training config's
/// `model_name_or_path: x.gguf` trains (GRPO with LoRA, tokenizer and context length from the file).
final class GGUFEndToEndTests: TemporaryDirectoryTestCase {
    func testScoreAndGenerateCommandsReadGGUF() throws {
        for name in ["llama_mixed", "qwen2_f16"] {
            try checkScoreAndGenerateCommands(model: GGUFFixtureFiles.url("\(name).gguf"), expected: GGUFFixtureFiles.expected(name),
                                              label: name, ignoreEOS: true)
        }
    }

    /// A file with Q8_0 and Q4_0 linear weights, kept in its blocks (the default) or read as float32.
    func testScoreAndGenerateCommandsKeepOrDequantizeGGUFBlocks() throws {
        for options in [[], ["--gguf-weights", "keep"], ["--gguf-weights", "float"]] {
            try checkScoreAndGenerateCommands(model: GGUFFixtureFiles.url("llama_q8_0_q4_0.gguf"), expected: GGUFFixtureFiles.expected("llama_q8_0_q4_0"),
                                              label: "llama_q8_0_q4_0 \(options)", ignoreEOS: true, options: options)
        }
    }

    /// LoRA GRPO on a base whose Q8_0 and Q4_0 linear weights stay in the file's blocks.
    func testTrainingOnAKeptQuantizedGGUFBase() throws {
        let model = GGUFFixtureFiles.url("llama_q8_0_q4_0.gguf")
        let output = directory.appendingPathComponent("run")
        _ = try trainShortGRPORun(model, output: output, settings: ["num_generations": "2", "max_completion_length": "5"],
                                  metrics: ["loss", "grad_norm", "reward"], label: "llama_q8_0_q4_0.gguf") {
            Self.arithmeticRows(count: 4, seed: 3, $0)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: output.appendingPathComponent("adapter_model.safetensors").path))
        func base(_ settings: String, model: URL = model) throws -> LanguageModel {
            let yaml = "model_name_or_path: \(model.path)\noutput_dir: \(directory.path)\nreward_funcs: [answer]\n\(settings)"
            return try TrainingModels.load(try resolve(GRPOConfig.self, yaml).config.run, seed: 0, gradientCheckpointing: false)
        }
        XCTAssertEqual(try base("use_peft: true").baseQuantization, .q8_0, "the file's blocks, kept under the LoRA adapters")
        XCTAssertEqual(try base("use_peft: true\ngguf_weights: keep").baseQuantization, .q8_0)
        XCTAssertNil(try base("use_peft: true\ngguf_weights: float").baseQuantization)
        XCTAssertNil(try base("use_peft: false").baseQuantization, "full fine-tuning reads float32")
        // (NF4's 64-value blocks need the Q4_K fixture's rows of 256.)
        XCTAssertEqual(try base("use_peft: true\nload_in_4bit: true", model: GGUFFixtureFiles.url("llama_q4_k.gguf")).baseQuantization, .nf4,
                       "quantized from float32")
        for settings in ["use_peft: false\ngguf_weights: keep", "use_peft: true\nload_in_8bit: true\ngguf_weights: keep"] {
            XCTAssertThrowsError(try base(settings)) { XCTAssertTrue("\($0)".contains("gguf_weights"), "\($0)") }
        }
    }

    func testTrainingConfigTakesAGGUFModel() throws {
        let model = GGUFFixtureFiles.url("llama_f32.gguf")
        let resolved = try resolve(GRPOConfig.self, "model_name_or_path: \(model.path)\noutput_dir: \(directory.path)\nreward_funcs: [answer]")
        XCTAssertEqual(resolved.config.training.maxSeqLength, 256, "the file's llama.context_length")
        let output = directory.appendingPathComponent("run")
        _ = try trainShortGRPORun(model, output: output, settings: ["num_generations": "2", "max_completion_length": "5"],
                                  metrics: ["loss", "grad_norm", "reward"], label: "llama_f32.gguf") {
            Self.arithmeticRows(count: 4, seed: 3, $0)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: output.appendingPathComponent("adapter_model.safetensors").path))
    }
}
