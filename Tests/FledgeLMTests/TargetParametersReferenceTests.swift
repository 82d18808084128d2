import Foundation
import XCTest
@testable import FledgeLM
import FledgeNN
import FledgeTensor

/// LoRA on parameters (`target_parameters`, TRL's `lora_target_parameters`) computes what PEFT 0.22's
/// `lora.ParamWrapper` computes (`Scripts/reference/make_target_parameters_fixtures.py`,
/// Fixtures/target_parameters, on the LoRA fixtures' base model): log-probs within 1e-5, gradients of
/// the weighted log-prob loss with respect to every lora_A and lora_B within 1e-5 of each tensor's
/// largest value, PEFT's merge, PEFT's file format, and PEFT's refusals.
final class TargetParametersReferenceTests: XCTestCase {
    static let directory = Fixtures.directory.appendingPathComponent("target_parameters")

    private func expected() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: Self.directory.appendingPathComponent("expected.json"))) as! [String: Any]
    }

    private func model(_ adapter: String) throws -> LanguageModel {
        let model = try LanguageModel(directory: LoRAFixtures.base)
        try model.loadAdapter(from: Self.directory.appendingPathComponent(adapter))
        return model
    }

    func testLogProbsMatchPEFT() throws {
        let expected = try expected(), sequences = try LoRAFixtures.sequences()
        for (adapter, key, adapted) in [
            ("peft_mixed", "mixed_logprobs", ["q_proj", "v_proj", "o_proj", "down_proj"]),
            ("peft_parameters_only", "parameters_only_logprobs", ["up_proj"]),
        ] {
            let model = try model(adapter)
            XCTAssertEqual(Set(model.loraModules.map { $0.0.split(separator: ".").last.map(String.init)! }), Set(adapted), adapter)
            XCTAssertEqual(model.loraModules.count, 2 * adapted.count, "\(adapter): one adapter per layer and target")
            let error = maxAbsDifference(model.tokenLogProbs(sequences), LoRAFixtures.logProbRows(key, in: expected))
            print("\(adapter): log-probs max abs error \(error)")
            XCTAssertLessThan(error, 1e-5, adapter)
        }
    }

    func testGradientsMatchPEFT() throws {
        let model = try model("peft_mixed")
        let loss = try LoRAFixtures.weightedLoss(model)
        loss.backward()
        let lossError = abs(Double(loss.item()) - (try expected()["mixed_loss"] as! Double))
        let reference = try SafeTensorsFile(url: Self.directory.appendingPathComponent("grads.safetensors"))
        let parameters = model.trainableParameters
        XCTAssertEqual(parameters.map(\.name).sorted(), reference.names, "A and B of each adapted module, named as PEFT saves them")
        var worst = 0.0
        for parameter in parameters {
            let error = relativeError(parameter.tensor.grad!.toArray(), try reference.tensor(parameter.name).toArray())
            worst = max(worst, error)
            XCTAssertLessThan(error, 1e-5, parameter.name)
        }
        print("target_parameters gradients vs PEFT: max error relative to each tensor's largest value \(worst); loss error \(lossError)")
        XCTAssertLessThan(lossError, 1e-4)
    }

    func testMergedModelMatchesPEFTsMerge() throws {
        let output = try temporaryDirectory(self)
        try model("peft_mixed").saveModel(to: output)
        let merged = try LanguageModel(directory: output)
        let error = maxAbsDifference(merged.tokenLogProbs(try LoRAFixtures.sequences()),
                                     LoRAFixtures.logProbRows("merged_logprobs", in: try expected()))
        print("target_parameters merged vs PEFT's merge_and_unload: log-probs max abs error \(error)")
        XCTAssertLessThan(error, 1e-5)
    }

    /// Saved as PEFT saves it: `target_parameters` in adapter_config.json beside the modules adapted by
    /// name (none here), the same tensors under the same keys; read back to the same options.
    func testSavedAsPEFTSavesIt() throws {
        let model = try model("peft_parameters_only")
        XCTAssertEqual(model.loraOptions?.targetParameters, ["mlp.up_proj.weight"])
        XCTAssertEqual(model.loraOptions?.targetModules, [])
        let output = try temporaryDirectory(self)
        try model.saveAdapter(to: output)
        let config = try JSONSerialization.jsonObject(
            with: Data(contentsOf: output.appendingPathComponent("adapter_config.json"))) as! [String: Any]
        XCTAssertEqual(config["target_parameters"] as? [String], ["mlp.up_proj.weight"])
        XCTAssertEqual(config["target_modules"] as? [String], [])
        let saved = try SafeTensorsFile(url: output.appendingPathComponent("adapter_model.safetensors"))
        let original = try SafeTensorsFile(url: Self.directory.appendingPathComponent("peft_parameters_only/adapter_model.safetensors"))
        XCTAssertEqual(saved.names, original.names)
        for name in original.names { XCTAssertEqual(try saved.tensor(name).toArray(), try original.tensor(name).toArray(), name) }
        let reloaded = try LanguageModel(directory: LoRAFixtures.base)
        try reloaded.loadAdapter(from: output)
        XCTAssertEqual(reloaded.loraOptions, model.loraOptions)
    }

    /// A fresh adapter on a weight named by parameter is the module's LoRA: B starts at zero, so the
    /// model is the base model, and the same seed draws the same A as `target_modules` would.
    func testFreshAdapterIsTheModulesLoRA() throws {
        let byParameter = try LanguageModel(directory: LoRAFixtures.base)
        try byParameter.addLoRA(LoRAOptions(r: 4, alpha: 8, targetModules: [], seed: 3, targetParameters: ["mlp.down_proj.weight"]))
        let byModule = try LanguageModel(directory: LoRAFixtures.base)
        try byModule.addLoRA(LoRAOptions(r: 4, alpha: 8, targetModules: ["down_proj"], seed: 3))
        XCTAssertEqual(byParameter.loraModules.map(\.0), byModule.loraModules.map(\.0))
        for ((name, a), (_, b)) in zip(byParameter.loraModules, byModule.loraModules) {
            XCTAssertEqual(a.a.toArray(), b.a.toArray(), name)
        }
        let sequences = try LoRAFixtures.sequences()
        XCTAssertLessThan(maxAbsDifference(byParameter.tokenLogProbs(sequences),
                                           LoRAFixtures.logProbRows("base_logprobs", in: try LoRAFixtures.expected())), 1e-5)
    }

    /// PEFT's refusals (dropout, DoRA, a module targeted both ways) and a name that matches no
    /// projection weight, each naming the field.
    func testRefusals() throws {
        func refusal(_ options: LoRAOptions) -> String {
            let model = try! LanguageModel(directory: LoRAFixtures.base)
            do {
                try model.addLoRA(options)
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        let down = ["mlp.down_proj.weight"]
        XCTAssert(refusal(LoRAOptions(dropout: 0.05, targetParameters: down)).contains("lora_dropout is 0.05; LoRA on parameters"))
        XCTAssert(refusal(LoRAOptions(useDoRA: true, targetParameters: down)).contains("use_dora is true"))
        XCTAssert(refusal(LoRAOptions(targetModules: ["down_proj"], targetParameters: down)).contains("which target_modules adapts already"))
        XCTAssert(refusal(LoRAOptions(targetModules: [LoRAOptions.allLinear], targetParameters: down)).contains("which target_modules adapts already"))
        XCTAssert(refusal(LoRAOptions(targetParameters: ["input_layernorm.weight"])).contains("names no weight of a decoder projection"))
        XCTAssert(refusal(LoRAOptions(targetParameters: ["model.embed_tokens.weight"])).contains("down_proj.weight"))
        XCTAssert(refusal(LoRAOptions(targetModules: [], targetParameters: [])).contains("target_modules is empty"))
    }
}
