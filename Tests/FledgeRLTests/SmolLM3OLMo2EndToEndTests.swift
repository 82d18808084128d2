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
    func testScoreAndGenerateCommandsReadTheFixtureDirectories() throws {
        for family in ["smollm3", "olmo2"] { try checkScoreAndGenerateCommands(family) }
    }

    func testShortGRPORunsTrainAndWritePEFTAdapters() throws {
        for family in ["smollm3", "olmo2"] {
            let model = try familyModelWithDemoTokenizer(family)
            let output = directory.appendingPathComponent("run-\(family)")
            _ = try trainShortGRPORun(model, output: output, settings: [
                "lora_r": "4", "num_generations": "2", "max_completion_length": "4", "gradient_checkpointing": "true",
            ], metrics: ["loss", "grad_norm", "reward", "kl", "entropy"], label: family) {
                Self.arithmeticRows(count: 4, seed: 3, $0)
            }
            let written = try SafeTensorsFile(url: output.appendingPathComponent("adapter_model.safetensors"))
            let peft = try SafeTensorsFile(url: Self.familyFixture(family).appendingPathComponent("peft_adapter/adapter_model.safetensors"))
            XCTAssertEqual(written.names, peft.names, "\(family): the adapter's tensors are named as PEFT names them")
            let reloaded = try LanguageModel(directory: model)
            try reloaded.loadAdapter(from: output)
            XCTAssertTrue(reloaded.hasAdapters, family)
        }
    }

    func testShortSFTAndDPORunsTrain() throws {
        for family in ["smollm3", "olmo2"] { try trainShortSFTAndDPORuns(family) }
    }
}
