import Foundation
import XCTest
@testable import FledgeLM
import FledgeNN
import FledgeTensor

/// Adapter and model files as PEFT and transformers read and write them: Fledge still writes the
/// committed `fledge_adapter/` byte for byte, and PEFT's log-probs with it (recorded by the
/// script's second stage) are Fledge's; a merged model reloads with the adapter's log-probs and
/// W + scale·B·A; adapters and full-fine-tuning weights round-trip; bad files are named.
///
/// `FLEDGE_WRITE_LORA_FIXTURE=1` makes `testFledgeWritesTheCommittedAdapter` (re)write
/// `fledge_adapter/` into the source tree and a merged model into /tmp/fledge_lora_merged for
/// `make_lora_fixtures.py --fledge`.
final class LoRAFileFormatTests: XCTestCase {
    func testFledgeWritesTheCommittedAdapter() throws {
        let model = try LoRAFixtures.fledgeAdapterModel()
        if ProcessInfo.processInfo.environment["FLEDGE_WRITE_LORA_FIXTURE"] == "1" {
            let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/lora/fledge_adapter")
            try model.saveAdapter(to: source)
            try model.saveModel(to: URL(fileURLWithPath: "/tmp/fledge_lora_merged"))
            print("wrote \(source.path) and /tmp/fledge_lora_merged; now run make_lora_fixtures.py --fledge")
        }
        let written = try temporaryDirectory(self)
        try model.saveAdapter(to: written)
        let name = "adapter_model.safetensors"
        XCTAssertEqual(try Data(contentsOf: written.appendingPathComponent(name)),
                       try Data(contentsOf: LoRAFixtures.fledgeAdapter.appendingPathComponent(name)),
                       "adapter_model.safetensors differs from the committed one that PEFT loaded")
        func config(_ directory: URL) throws -> [String: Any] {
            var fields = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("adapter_config.json"))) as! [String: Any]
            fields["base_model_name_or_path"] = nil
            return fields
        }
        XCTAssertEqual(try config(written) as NSDictionary, try config(LoRAFixtures.fledgeAdapter) as NSDictionary)
        let fields = try config(written)
        XCTAssertEqual(fields["peft_type"] as? String, "LORA")
        XCTAssertEqual(fields["target_modules"] as? [String], ["q_proj", "k_proj", "up_proj", "layers.1.mlp.down_proj"])
        XCTAssertEqual(fields["r"] as? Int, 4)
        XCTAssertEqual(fields["lora_alpha"] as? Int, 16)
        XCTAssertEqual(fields["task_type"] as? String, "CAUSAL_LM")
    }

    func testPEFTLogProbsWithTheFledgeAdapter() throws {
        let recorded = try LoRAFixtures.json("fledge_expected.json")
        let sequences = try LoRAFixtures.sequences()
        let model = try LanguageModel(directory: LoRAFixtures.base)
        try model.loadAdapter(from: LoRAFixtures.fledgeAdapter)
        XCTAssertEqual(model.loraModules.map(\.0), ["model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.k_proj",
                                                    "model.layers.0.mlp.up_proj", "model.layers.1.self_attn.q_proj",
                                                    "model.layers.1.self_attn.k_proj", "model.layers.1.mlp.up_proj",
                                                    "model.layers.1.mlp.down_proj"])
        let error = maxAbsDifference(model.tokenLogProbs(sequences), LoRAFixtures.logProbRows("logprobs", in: recorded))
        let unsaved = maxAbsDifference(try LoRAFixtures.fledgeAdapterModel().tokenLogProbs(sequences),
                                       LoRAFixtures.logProbRows("logprobs", in: recorded))
        print("Fledge adapter in PEFT vs Fledge: max abs error \(error) (loaded), \(unsaved) (as trained); "
              + "transformers on the merged model vs PEFT: \(recorded["merged_max_abs_diff"] ?? "not recorded")")
        XCTAssertLessThan(error, 1e-5)
        XCTAssertLessThan(unsaved, 1e-5)
    }

    func testMergedModelReloadsWithTheAdapterLogProbs() throws {
        let model = try LoRAFixtures.fledgeAdapterModel()
        let source = try scratchCopyOfBase()
        try Data("{\"model\": {}}".utf8).write(to: source.appendingPathComponent("tokenizer.json"))
        let trained = try LanguageModel(directory: source)
        try trained.loadAdapter(from: LoRAFixtures.fledgeAdapter)
        let output = try temporaryDirectory(self)
        try trained.saveModel(to: output)
        XCTAssertTrue(trained.hasAdapters && trained.adaptersEnabled, "saving merges into the file only")
        for file in ["config.json", "model.safetensors", "generation_config.json", "tokenizer.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: output.appendingPathComponent(file).path), file)
        }
        let merged = try LanguageModel(directory: output)
        XCTAssertFalse(merged.hasAdapters)
        let sequences = try LoRAFixtures.sequences()
        let error = maxAbsDifference(merged.tokenLogProbs(sequences), model.tokenLogProbs(sequences).map { $0.map(Double.init) })
        print("merged model vs adapter: log-probs max abs difference \(error)")
        XCTAssertLessThan(error, 1e-5)

        let base = Dictionary(uniqueKeysWithValues: try LanguageModel(directory: LoRAFixtures.base).namedWeights)
        let adapters = Dictionary(uniqueKeysWithValues: model.loraModules)
        var worst: Float = 0
        for (name, weight) in merged.namedWeights {
            let module = String(name.dropLast(".weight".count))
            guard let adapter = adapters[module] else {
                XCTAssertEqual(weight.toArray(), base[name]!.toArray(), "\(name) has no adapter and must be unchanged")
                continue
            }
            let (w, a, b) = (base[name]!.toArray(), adapter.a.toArray(), adapter.b.toArray())
            let (rows, columns, rank) = (weight.shape[0], weight.shape[1], adapter.rank)
            for (index, value) in weight.toArray().enumerated() {
                let (i, j) = (index / columns, index % columns)
                let product = (0..<rank).reduce(0.0) { $0 + Double(b[i * rank + $1]) * Double(a[$1 * columns + j]) }
                worst = max(worst, abs(value - Float(Double(w[index]) + Double(adapter.scale) * product)))
            }
            XCTAssertEqual(rows, adapter.b.shape[0])
        }
        print("merged weights vs W + scale·B·A (float64): max abs error \(worst)")
        XCTAssertLessThan(worst, 1e-6)
    }

    func testAdapterRoundTripAndReloadIntoAttachedAdapters() throws {
        let model = try LoRAFixtures.fledgeAdapterModel()
        let directory = try temporaryDirectory(self)
        try model.saveAdapter(to: directory)
        let loaded = try LanguageModel(directory: LoRAFixtures.base)
        try loaded.addLoRA(LoRAOptions(r: 4, alpha: 16, targetModules: ["q_proj", "k_proj", "up_proj", "layers.1.mlp.down_proj"],
                                       seed: 99))
        try loaded.loadAdapter(from: directory)
        XCTAssertEqual(loaded.trainableParameters.map(\.name), model.trainableParameters.map(\.name))
        for (a, b) in zip(loaded.trainableParameters, model.trainableParameters) {
            XCTAssertEqual(a.tensor.toArray(), b.tensor.toArray(), a.name)
        }
    }

    func testFullFineTuningWeightsRestoreFromASavedModel() throws {
        let model = try LanguageModel(directory: LoRAFixtures.base)
        model.makeFullyTrainable()
        let parameters = model.trainableParameters
        XCTAssertEqual(parameters.map(\.name), model.namedWeights.map(\.0))
        XCTAssertFalse(parameters.contains { $0.tensor.isMemoryMapped }, "trainable weights live in owned memory")
        let saved = parameters.map { $0.tensor.toArray() }
        let directory = try temporaryDirectory(self)
        try model.saveModel(to: directory)
        for parameter in parameters { parameter.tensor.withUnsafeMutableElements { $0.update(repeating: 0.5) } }
        try model.loadTrainableWeights(from: directory.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(parameters.map { $0.tensor.toArray() }, saved)

        let lora = try LoRAFixtures.fledgeAdapterModel()
        XCTAssertThrowsError(try lora.loadTrainableWeights(from: directory.appendingPathComponent("model.safetensors"))) { error in
            XCTAssertTrue("\(error)".contains("model.layers.0.self_attn.q_proj.lora_A.weight"), "\(error)")
        }
        try lora.loadTrainableWeights(from: LoRAFixtures.fledgeAdapter.appendingPathComponent("adapter_model.safetensors"))
    }

    func testTargetThatMatchesNothingIsNamed() throws {
        let model = try LanguageModel(directory: LoRAFixtures.base)
        XCTAssertThrowsError(try model.addLoRA(LoRAOptions(targetModules: ["q_proj", "qkv_proj"]))) { error in
            XCTAssertEqual(error as? AdapterError, .unmatchedTarget("qkv_proj", adaptable: LoRAOptions.adaptableModules))
            XCTAssertTrue("\(error)".contains("'qkv_proj' matches no module"), "\(error)")
        }
        XCTAssertThrowsError(try model.addLoRA(LoRAOptions(targetModules: ["lm_head"])))
        XCTAssertThrowsError(try model.addLoRA(LoRAOptions(r: 0))) { error in
            XCTAssertTrue("\(error)".contains("LoRA option r is 0"), "\(error)")
        }
        XCTAssertFalse(model.hasAdapters, "a failed addLoRA attaches nothing")
        try model.addLoRA(LoRAOptions())
        XCTAssertThrowsError(try model.addLoRA(LoRAOptions())) { XCTAssertEqual($0 as? AdapterError, .alreadyAttached) }
    }

    func testAdapterShapeMismatchNamesKeyAndShapes() throws {
        let model = try LanguageModel(directory: LoRAFixtures.base)
        // Rank 2 with lora_alpha 4 has the fixture's scale (2), so only the shapes disagree.
        try model.addLoRA(LoRAOptions(r: 2, alpha: 4, targetModules: ["q_proj", "v_proj", "o_proj", "gate_proj", "down_proj"]))
        let before = model.trainableParameters.map { $0.tensor.toArray() }
        XCTAssertThrowsError(try model.loadAdapter(from: LoRAFixtures.peftAdapter)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("base_model.model.model.layers.0.mlp.down_proj.lora_A.weight"), text)
            XCTAssertTrue(text.contains("[4, 80]") && text.contains("[2, 80]"), text)
        }
        XCTAssertEqual(model.trainableParameters.map { $0.tensor.toArray() }, before, "a failed load changes nothing")
    }

    func testUnknownAdapterTensorIsNamed() throws {
        let directory = try temporaryDirectory(self)
        for name in ["adapter_config.json", "adapter_model.safetensors"] {
            try FileManager.default.copyItem(at: LoRAFixtures.peftAdapter.appendingPathComponent(name), to: directory.appendingPathComponent(name))
        }
        let config = directory.appendingPathComponent("adapter_config.json")
        let text = try String(contentsOf: config, encoding: .utf8).replacingOccurrences(of: "\"gate_proj\",", with: "")
        try Data(text.utf8).write(to: config)
        let model = try LanguageModel(directory: LoRAFixtures.base)
        XCTAssertThrowsError(try model.loadAdapter(from: directory)) { error in
            XCTAssertTrue("\(error)".contains("'base_model.model.model.layers.0.mlp.gate_proj.lora_A.weight' belongs to no adapted module"),
                          "\(error)")
        }
        XCTAssertFalse(model.hasAdapters)
    }

    func testMissingAdapterConfigIsNamed() throws {
        let directory = try temporaryDirectory(self)
        try FileManager.default.copyItem(at: LoRAFixtures.peftAdapter.appendingPathComponent("adapter_model.safetensors"),
                                         to: directory.appendingPathComponent("adapter_model.safetensors"))
        let model = try LanguageModel(directory: LoRAFixtures.base)
        XCTAssertThrowsError(try model.loadAdapter(from: directory)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(directory.appendingPathComponent("adapter_config.json").path) && text.contains("no such file"), text)
        }
        XCTAssertThrowsError(try model.saveAdapter(to: directory)) { XCTAssertEqual($0 as? AdapterError, .noAdapters(operation: "saveAdapter")) }
    }

    func testUnsupportedConfigFieldIsNamed() throws {
        let directory = try temporaryDirectory(self)
        let config = try String(contentsOf: LoRAFixtures.peftAdapter.appendingPathComponent("adapter_config.json"), encoding: .utf8)
        try Data(config.replacingOccurrences(of: "\"fan_in_fan_out\": false", with: "\"fan_in_fan_out\": true").utf8)
            .write(to: directory.appendingPathComponent("adapter_config.json"))
        XCTAssertThrowsError(try LanguageModel(directory: LoRAFixtures.base).loadAdapter(from: directory)) { error in
            XCTAssertTrue("\(error)".contains("field 'fan_in_fan_out' is set"), "\(error)")
        }
    }

    /// A config that says `use_dora` over tensors without magnitudes names the first missing one.
    func testDoRAConfigWithoutMagnitudesIsRefused() throws {
        let directory = try temporaryDirectory(self)
        let config = try String(contentsOf: LoRAFixtures.peftAdapter.appendingPathComponent("adapter_config.json"), encoding: .utf8)
        try Data(config.replacingOccurrences(of: "\"use_dora\": false", with: "\"use_dora\": true").utf8)
            .write(to: directory.appendingPathComponent("adapter_config.json"))
        try FileManager.default.copyItem(at: LoRAFixtures.peftAdapter.appendingPathComponent("adapter_model.safetensors"),
                                         to: directory.appendingPathComponent("adapter_model.safetensors"))
        XCTAssertThrowsError(try LanguageModel(directory: LoRAFixtures.base).loadAdapter(from: directory)) { error in
            XCTAssertTrue("\(error)".contains("down_proj.lora_magnitude_vector' is missing"), "\(error)")
        }
    }

    private func scratchCopyOfBase() throws -> URL {
        let target = try temporaryDirectory(self).appendingPathComponent("base")
        try FileManager.default.copyItem(at: LoRAFixtures.base, to: target)
        return target
    }
}
