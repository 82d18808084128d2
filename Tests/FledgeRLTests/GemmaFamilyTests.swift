@testable import FledgeLM
import FledgeTensor
import XCTest
@testable import FledgeRL

/// The Gemma 2 and Gemma 3 text fixture directories (Tests/FledgeLMTests/Fixtures/families) work
/// unchanged through `fledge score` and `fledge generate`, and GRPO trains LoRA on them (finite
/// metrics and an adapter written in PEFT's format), as short SFT and DPO runs do.
final class GemmaFamilyTests: TemporaryDirectoryTestCase {
    static let families = ["gemma2", "gemma3_text"]

    func testGemmaDirectoriesScoreAndGenerateThroughTheCommandLine() throws {
        for family in Self.families { try checkScoreAndGenerateCommands(family) }
    }

    func testGRPOTrainsLoRAOnGemmaFamilies() throws {
        for family in Self.families {
            let model = try familyModelWithDemoTokenizer(family)
            let output = directory.appendingPathComponent("run-\(family)")
            _ = try trainShortGRPORun(model, output: output, settings: [
                "num_generations": "2", "max_completion_length": "5", "gradient_checkpointing": "true",
            ], metrics: ["loss", "grad_norm", "reward", "entropy", "kl", "completions/mean_length"], label: family) {
                Self.arithmeticRows(count: 4, seed: 3, $0)
            }
            let adapterConfig = try JSONParser.parse([UInt8](Data(contentsOf: output.appendingPathComponent("adapter_config.json"))))
            XCTAssertEqual(adapterConfig["peft_type"], .string("LORA"), family)
            XCTAssertEqual(adapterConfig["task_type"], .string("CAUSAL_LM"), family)
            let weights = try SafeTensorsFile(url: output.appendingPathComponent("adapter_model.safetensors"))
            XCTAssertEqual(weights.names.count, 4 * 7 * 2, "\(family): lora_A and lora_B of 7 projections in 4 layers")
            XCTAssert(weights.names.contains("base_model.model.model.layers.0.mlp.gate_proj.lora_A.weight"), "\(family): \(weights.names)")
            let reloaded = try LanguageModel(directory: Self.familyFixture(family))
            try reloaded.loadAdapter(from: output)
            XCTAssertEqual(reloaded.loraModules.count, 28, family)
        }
    }

    func testShortSFTAndDPORunsTrainOnGemmaFamilies() throws {
        for family in Self.families { try trainShortSFTAndDPORuns(family) }
    }
}
