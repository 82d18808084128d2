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

    /// SFT and DPO with LoRA on every linear layer, on sequences made of the fixture's `score` ids
    /// (completion from the fifth token): finite losses, and DPO starts at log 2 (policy = reference).
    func testShortSFTAndDPORunsTrain() throws {
        for family in ["smollm3", "olmo2"] {
            let model = Self.familyFixture(family)
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
}
