import Foundation
import XCTest
@testable import FledgeLM
import FledgeNN
import FledgeTensor

/// DoRA (`use_dora`) computes what PEFT 0.22 computes (`Scripts/reference/make_dora_fixtures.py`,
/// Fixtures/dora, on the LoRA fixtures' base model): log-probs within 1e-5, gradients of the weighted
/// log-prob loss with respect to every lora_A, lora_B and lora_magnitude_vector within 1e-4 of each
/// tensor's largest value, PEFT's merge, PEFT's initial magnitudes, and PEFT's file format.
final class DoRAReferenceTests: XCTestCase {
    static let directory = Fixtures.directory.appendingPathComponent("dora")

    private func expected() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: Self.directory.appendingPathComponent("expected.json"))) as! [String: Any]
    }

    private func model(_ adapter: String) throws -> LanguageModel {
        let model = try LanguageModel(directory: LoRAFixtures.base)
        try model.loadAdapter(from: Self.directory.appendingPathComponent(adapter))
        return model
    }

    func testLogProbsMatchPEFT() throws {
        let expected = try expected(), lora = try LoRAFixtures.expected(), sequences = try LoRAFixtures.sequences()
        for (adapter, key) in [("peft_dora", "dora_logprobs"), ("peft_dora_rslora", "dora_rslora_logprobs")] {
            let model = try model(adapter)
            XCTAssertEqual(model.loraOptions?.useDoRA, true)
            XCTAssertTrue(model.loraModules.allSatisfy { $0.1.magnitude != nil })
            let error = maxAbsDifference(model.tokenLogProbs(sequences), LoRAFixtures.logProbRows(key, in: expected))
            let baseError = maxAbsDifference(model.withAdaptersDisabled { model.tokenLogProbs(sequences) },
                                             LoRAFixtures.logProbRows("base_logprobs", in: lora))
            print("\(adapter): log-probs max abs error \(error); adapters off vs base \(baseError)")
            XCTAssertLessThan(error, 1e-5, adapter)
            XCTAssertLessThan(baseError, 1e-5, "\(adapter) switched off")
            // The row norms are cached between passes; a second pass reads them and gives the same values.
            XCTAssertLessThan(maxAbsDifference(model.tokenLogProbs(sequences), LoRAFixtures.logProbRows(key, in: expected)), 1e-5)
        }
    }

    func testGradientsMatchPEFT() throws {
        let model = try model("peft_dora")
        let loss = try LoRAFixtures.weightedLoss(model)
        loss.backward()
        let lossError = abs(Double(loss.item()) - (try expected()["dora_loss"] as! Double))
        let reference = try SafeTensorsFile(url: Self.directory.appendingPathComponent("grads.safetensors"))
        let parameters = model.trainableParameters
        XCTAssertEqual(parameters.map(\.name).sorted(), reference.names, "A, B and the magnitude of each module, named as PEFT saves them")
        XCTAssertEqual(parameters.filter { $0.name.hasSuffix(".lora_magnitude_vector") }.count, 10)
        var worst = 0.0
        for parameter in parameters {
            let error = relativeError(parameter.tensor.grad!.toArray(), try reference.tensor(parameter.name).toArray())
            worst = max(worst, error)
            XCTAssertLessThan(error, 1e-4, parameter.name)
        }
        print("DoRA gradients vs PEFT: max error relative to each tensor's largest value \(worst); loss error \(lossError)")
        XCTAssertLessThan(lossError, 1e-4)
    }

    /// Merging rescales each row of W + s·B·A to its magnitude, as `merge_and_unload` does.
    func testMergedModelMatchesPEFTsMerge() throws {
        let output = try temporaryDirectory(self)
        try model("peft_dora").saveModel(to: output)
        let merged = try LanguageModel(directory: output)
        XCTAssertFalse(merged.hasAdapters)
        let error = maxAbsDifference(merged.tokenLogProbs(try LoRAFixtures.sequences()),
                                     LoRAFixtures.logProbRows("merged_logprobs", in: try expected()))
        print("DoRA merged vs PEFT's merge_and_unload: log-probs max abs error \(error)")
        XCTAssertLessThan(error, 1e-5)
    }

    func testFreshMagnitudesAreTheWeightsRowNorms() throws {
        let model = try LanguageModel(directory: LoRAFixtures.base)
        try model.addLoRA(LoRAOptions(r: 4, alpha: 8, targetModules: ["q_proj"], useDoRA: true))
        let magnitude = try XCTUnwrap(model.loraModules.first { $0.0 == "model.layers.0.self_attn.q_proj" }?.1.magnitude)
        let reference = (try expected()["initial_magnitudes"] as! [NSNumber]).map(\.floatValue)
        XCTAssertLessThan(relativeError(magnitude.toArray(), reference), 1e-6)
        // B starts at zero, so the adapted model is the base model.
        let sequences = try LoRAFixtures.sequences()
        XCTAssertLessThan(maxAbsDifference(model.tokenLogProbs(sequences), LoRAFixtures.logProbRows("base_logprobs", in: try LoRAFixtures.expected())), 1e-5)
    }

    /// Saved as PEFT saves DoRA (`use_dora: true`, `….lora_magnitude_vector` tensors) and read back
    /// exactly; changing a factor in place (an optimizer step) changes the output as a fresh load of the
    /// changed values does, so the cached row norms never go stale.
    func testSavedAsPEFTSavesItAndCachedNormsFollowTheFactors() throws {
        let model = try model("peft_dora_rslora")
        let output = try temporaryDirectory(self)
        try model.saveAdapter(to: output)
        let config = try String(contentsOf: output.appendingPathComponent("adapter_config.json"), encoding: .utf8)
        XCTAssert(config.contains("\"use_dora\": true"), config)
        let saved = try SafeTensorsFile(url: output.appendingPathComponent("adapter_model.safetensors"))
        let original = try SafeTensorsFile(url: Self.directory.appendingPathComponent("peft_dora_rslora/adapter_model.safetensors"))
        XCTAssertEqual(saved.names, original.names)
        for name in original.names { XCTAssertEqual(try saved.tensor(name).toArray(), try original.tensor(name).toArray(), name) }

        let sequences = try LoRAFixtures.sequences()
        _ = model.tokenLogProbs(sequences)  // fills the caches
        for parameter in model.trainableParameters where parameter.name.hasSuffix("lora_B.weight") {
            parameter.tensor.withUnsafeMutableElements { for i in $0.indices { $0[i] *= 1.5 } }
        }
        let changed = model.tokenLogProbs(sequences)
        try model.saveAdapter(to: output)
        let reloaded = try LanguageModel(directory: LoRAFixtures.base)
        try reloaded.loadAdapter(from: output)
        XCTAssertEqual(changed, reloaded.tokenLogProbs(sequences))
    }

    func testDoRAIsRefusedWhereItCannotGo() throws {
        let model = try model("peft_dora")
        let output = try temporaryDirectory(self)
        XCTAssertThrowsError(try model.saveLoRAGGUF(to: output.appendingPathComponent("adapter.gguf"))) { error in
            XCTAssert("\(error)".contains("use_dora"), "\(error)")
        }
        // A plain LoRA adapter does not load over attached DoRA adapters.
        XCTAssertThrowsError(try model.loadAdapter(from: LoRAFixtures.peftAdapter)) { error in
            XCTAssert("\(error)".contains("use_dora"), "\(error)")
        }
    }
}
