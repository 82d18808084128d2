import Foundation
import XCTest
@testable import FledgeLM
import FledgeNN
import FledgeTensor

/// Modules trained whole beside LoRA adapters (`modules_to_save`) compute what PEFT 0.22 computes
/// (`Scripts/reference/make_modules_to_save_fixtures.py`, Fixtures/modules_to_save, on the LoRA
/// fixtures' base model): log-probs with the adapters within 1e-5, and with them disabled (the
/// original modules, as PEFT's `disable_adapter` switches back to them); gradients of the weighted
/// log-prob loss for every lora_A, lora_B and saved module weight within 1e-4 of each tensor's
/// largest value; PEFT's keys and config when saved; the trained weights when merged.
final class ModulesToSaveReferenceTests: XCTestCase {
    static let directory = Fixtures.directory.appendingPathComponent("modules_to_save")
    static let adapters = ["peft_head", "peft_embed_head"]

    private func expected(_ adapter: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.directory.appendingPathComponent("expected.json")))
        return (object as! [String: Any])[adapter] as! [String: Any]
    }

    private func model(_ adapter: String) throws -> LanguageModel {
        let model = try LanguageModel(directory: LoRAFixtures.base)
        try model.loadAdapter(from: Self.directory.appendingPathComponent(adapter))
        return model
    }

    func testLogProbsWithAndWithoutAdaptersMatchPEFT() throws {
        let sequences = try LoRAFixtures.sequences()
        for adapter in Self.adapters {
            let model = try model(adapter), expected = try expected(adapter)
            XCTAssertEqual(model.modulesToSave, expected["modules_to_save"] as? [String])
            let error = maxAbsDifference(model.tokenLogProbs(sequences), LoRAFixtures.logProbRows("logprobs", in: expected))
            let disabledError = maxAbsDifference(model.withAdaptersDisabled { model.tokenLogProbs(sequences) },
                                                 LoRAFixtures.logProbRows("disabled_logprobs", in: expected))
            let againError = maxAbsDifference(model.tokenLogProbs(sequences), LoRAFixtures.logProbRows("logprobs", in: expected))
            print("\(adapter): log-probs max abs error \(error); adapters disabled \(disabledError); enabled again \(againError)")
            XCTAssertLessThan(error, 1e-5, adapter)
            XCTAssertLessThan(disabledError, 1e-5, "\(adapter) disabled")
            XCTAssertLessThan(againError, 1e-5, "\(adapter) enabled again")
            // The trained weights differ from the base's, so the disabled model is not the adapted one.
            XCTAssertGreaterThan(maxAbsDifference(model.withAdaptersDisabled { model.tokenLogProbs(sequences) },
                                                  LoRAFixtures.logProbRows("logprobs", in: expected)), 1e-3)
        }
    }

    func testGradientsMatchPEFT() throws {
        for adapter in Self.adapters {
            let model = try model(adapter)
            let loss = try LoRAFixtures.weightedLoss(model)
            loss.backward()
            let lossError = abs(Double(loss.item()) - (try expected(adapter)["loss"] as! Double))
            let reference = try SafeTensorsFile(url: Self.directory.appendingPathComponent("\(adapter)_grads.safetensors"))
            let parameters = model.trainableParameters
            XCTAssertEqual(parameters.map(\.name).sorted(), reference.names.sorted(),
                           "A and B of each module and each saved module's weight, named as PEFT saves them")
            var worst = 0.0
            for parameter in parameters {
                let error = relativeError(parameter.tensor.grad!.toArray(), try reference.tensor(parameter.name).toArray())
                worst = max(worst, error)
                XCTAssertLessThan(error, 1e-4, "\(adapter) \(parameter.name)")
            }
            print("\(adapter) gradients vs PEFT: max error relative to each tensor's largest value \(worst); loss error \(lossError)")
            XCTAssertLessThan(lossError, 1e-4)
        }
    }

    /// Saved with PEFT's keys and values and PEFT's `modules_to_save`, and loaded back (also as a resumed
    /// run loads its trainable weights); a fresh adapter trains a copy, leaving the base's weight for the reference.
    func testSavedAsPEFTSavesItAndTheOriginalStaysForTheReference() throws {
        let adapter = "peft_embed_head"
        let model = try model(adapter), expected = try expected(adapter)
        let output = try temporaryDirectory(self)
        try model.saveAdapter(to: output)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: output.appendingPathComponent("adapter_config.json"))) as! [String: Any]
        XCTAssertEqual(config["modules_to_save"] as? [String], ["embed_tokens", "lm_head"])
        let saved = try SafeTensorsFile(url: output.appendingPathComponent("adapter_model.safetensors"))
        let original = try SafeTensorsFile(url: Self.directory.appendingPathComponent("\(adapter)/adapter_model.safetensors"))
        XCTAssertEqual(saved.names.sorted(), expected["keys"] as? [String])
        for name in original.names { XCTAssertEqual(try saved.tensor(name).toArray(), try original.tensor(name).toArray(), name) }

        let fresh = try LanguageModel(directory: LoRAFixtures.base)
        try fresh.addLoRA(LoRAOptions(r: 4, alpha: 8, targetModules: ["q_proj", "v_proj"]))
        try fresh.trainModulesFully(["embed_tokens", "lm_head"])
        try fresh.loadTrainableWeights(from: output.appendingPathComponent("adapter_model.safetensors"))
        let sequences = try LoRAFixtures.sequences()
        XCTAssertLessThan(maxAbsDifference(fresh.tokenLogProbs(sequences), LoRAFixtures.logProbRows("logprobs", in: expected)), 1e-5)
        XCTAssertLessThan(maxAbsDifference(fresh.withAdaptersDisabled { fresh.tokenLogProbs(sequences) },
                                           LoRAFixtures.logProbRows("base_logprobs", in: try LoRAFixtures.expected())), 1e-5)
    }

    /// An adapter Fledge makes and trains (`fledge_adapter/`, its embedding and head changed as a step
    /// would) is what PEFT loads: stage 2 of the script loads it into PEFT, checks every saved module
    /// weight came from the file, and records PEFT's log-probs, which Fledge's match within 1e-5.
    /// `FLEDGE_WRITE_MODULES_TO_SAVE_FIXTURE=1` (re)writes `fledge_adapter/` into the source tree.
    func testPEFTLoadsFledgesAdapter() throws {
        let model = try LanguageModel(directory: LoRAFixtures.base)
        try model.addLoRA(LoRAOptions(r: 4, alpha: 8, targetModules: ["q_proj", "v_proj"], seed: 26))
        try model.trainModulesFully(["embed_tokens", "lm_head"])
        for parameter in model.trainableParameters {
            parameter.tensor.withUnsafeMutableElements { for i in $0.indices { $0[i] = $0[i] * 1.25 + Float(i % 7) * 0.01 } }
        }
        if ProcessInfo.processInfo.environment["FLEDGE_WRITE_MODULES_TO_SAVE_FIXTURE"] == "1" {
            let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("Fixtures/modules_to_save/fledge_adapter")
            try model.saveAdapter(to: source)
            print("wrote \(source.path); now run make_modules_to_save_fixtures.py --fledge")
        }
        let written = try temporaryDirectory(self)
        try model.saveAdapter(to: written)
        let name = "adapter_model.safetensors"
        XCTAssertEqual(try Data(contentsOf: written.appendingPathComponent(name)),
                       try Data(contentsOf: Self.directory.appendingPathComponent("fledge_adapter/\(name)")))
        let peft = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.directory.appendingPathComponent("fledge_expected.json")))
            as! [String: Any]
        let error = maxAbsDifference(model.tokenLogProbs(try LoRAFixtures.sequences()), LoRAFixtures.logProbRows("logprobs", in: peft))
        print("Fledge's adapter in PEFT vs Fledge: log-probs max abs error \(error)")
        XCTAssertLessThan(error, 1e-5)
    }

    /// Merged, the trained weights replace the base's; unmerged, the base's are written.
    func testMergedModelHoldsTheTrainedModules() throws {
        let adapter = "peft_embed_head", sequences = try LoRAFixtures.sequences()
        let model = try model(adapter)
        let merged = try temporaryDirectory(self), unmerged = try temporaryDirectory(self)
        try model.saveModel(to: merged)
        try model.saveModel(to: unmerged, mergeAdapters: false)
        let mergedError = maxAbsDifference(try LanguageModel(directory: merged).tokenLogProbs(sequences),
                                           LoRAFixtures.logProbRows("logprobs", in: try expected(adapter)))
        let unmergedError = maxAbsDifference(try LanguageModel(directory: unmerged).tokenLogProbs(sequences),
                                             LoRAFixtures.logProbRows("disabled_logprobs", in: try expected(adapter)))
        XCTAssertThrowsError(try model.saveLoRAGGUF(to: merged.appendingPathComponent("adapter.gguf"))) {
            XCTAssert("\($0)".contains("modules_to_save"), "\($0)")
        }
        print("merged vs PEFT with the adapter: \(mergedError); unmerged vs the base \(unmergedError)")
        XCTAssertLessThan(mergedError, 1e-5)
        XCTAssertLessThan(unmergedError, 1e-5)
    }

    func testModulesThatCannotTrainWholeAreRefusedByName() throws {
        let model = try LanguageModel(directory: LoRAFixtures.base)
        XCTAssertThrowsError(try model.trainModulesFully(["lm_head"])) { XCTAssert("\($0)".contains("attach adapters first"), "\($0)") }
        try model.addLoRA(LoRAOptions(r: 4, alpha: 8, targetModules: ["q_proj"]))
        XCTAssertThrowsError(try model.trainModulesFully(["lm_haed"])) { XCTAssert("\($0)".contains("lm_haed"), "\($0)") }
        XCTAssertThrowsError(try model.trainModulesFully(["up_proj"])) { XCTAssert("\($0)".contains("model.layers.0.mlp.up_proj"), "\($0)") }
        XCTAssertTrue(model.modulesToSave.isEmpty)
        XCTAssertEqual(model.trainableParameters.count, 4)

        let tied = try LanguageModel(directory: FamilyFixtures.directory("gemma2"))
        try tied.addLoRA(LoRAOptions(r: 2, alpha: 4, targetModules: ["q_proj"]))
        XCTAssertThrowsError(try tied.trainModulesFully(["lm_head"])) { XCTAssert("\($0)".contains("tie_word_embeddings"), "\($0)") }
        // A config naming a module the model lacks is refused when loaded, leaving the model as it was.
        let bad = try temporaryDirectory(self)
        try FileManager.default.copyItem(at: Self.directory.appendingPathComponent("peft_head/adapter_model.safetensors"),
                                         to: bad.appendingPathComponent("adapter_model.safetensors"))
        let text = try String(contentsOf: Self.directory.appendingPathComponent("peft_head/adapter_config.json"), encoding: .utf8)
        try text.replacingOccurrences(of: "\"lm_head\"", with: "\"output\"").write(to: bad.appendingPathComponent("adapter_config.json"),
                                                                                      atomically: true, encoding: .utf8)
        let fresh = try LanguageModel(directory: LoRAFixtures.base)
        XCTAssertThrowsError(try fresh.loadAdapter(from: bad)) { XCTAssert("\($0)".contains("output"), "\($0)") }
        XCTAssertFalse(fresh.hasAdapters)
    }
}
