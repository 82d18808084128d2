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
