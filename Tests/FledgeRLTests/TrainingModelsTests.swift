import Foundation
import XCTest
@testable import FledgeRL

/// Loading `model_name_or_path` for training.
final class TrainingModelsTests: XCTestCase {
    func testLoRAOrFullFineTuningFromTheRunFields() throws {
        var run = RunArguments()
        run.modelNameOrPath = SFTFixtures.modelDirectory.path
        run.usePeft = true
        run.loraR = 4
        run.loraTargetModules = ["q_proj", "down_proj"]
        let lora = try TrainingModels.load(run, seed: 1, gradientCheckpointing: true)
        XCTAssert(lora.hasAdapters)
        XCTAssert(lora.gradientCheckpointing)
        XCTAssertEqual(lora.trainableParameters.map(\.name), [
            "model.layers.0.self_attn.q_proj.lora_A.weight", "model.layers.0.self_attn.q_proj.lora_B.weight",
            "model.layers.0.mlp.down_proj.lora_A.weight", "model.layers.0.mlp.down_proj.lora_B.weight",
        ])
        XCTAssertEqual(lora.trainableParameters[0].tensor.shape, [4, 24])
        XCTAssertEqual(lora.loraOptions?.scale, 8, "lora_alpha 32 / lora_r 4")

        run.useRslora = true
        let rank = try TrainingModels.load(run, seed: 1, gradientCheckpointing: false)
        XCTAssertEqual(rank.loraOptions?.scale, 16, "use_rslora: lora_alpha 32 / √4")
        let saved = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-rslora-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: saved) }
        try rank.saveAdapter(to: saved)
        let config = try String(contentsOf: saved.appendingPathComponent("adapter_config.json"), encoding: .utf8)
        XCTAssert(config.contains("\"use_rslora\": true"), config)
        run.useRslora = false

        run.usePeft = false
        let full = try TrainingModels.load(run, seed: 1, gradientCheckpointing: false)
        XCTAssertFalse(full.hasAdapters)
        XCTAssertEqual(full.trainableParameters.count, full.namedWeights.count)
    }

    /// `bf16: true` stores a LoRA run's float base in bfloat16 (exact: autocast rounds each frozen weight
    /// to bfloat16 in every product); `load_in_4bit` / `load_in_8bit` choose their own format; DoRA and
    /// full fine-tuning keep float32, as does a float32 run.
    func testBFloat16LoRARunsStoreTheirBaseInBFloat16() throws {
        var run = RunArguments()
        run.modelNameOrPath = SFTFixtures.modelDirectory.path
        run.usePeft = true
        XCTAssertEqual(try TrainingModels.baseStorage(run, productPrecision: .bfloat16), BaseQuantization(.bf16))
        XCTAssertNil(try TrainingModels.baseStorage(run, productPrecision: .float32))
        var training = TrainingArguments()
        training.bf16 = true
        XCTAssertEqual(try TrainingModels.load(run, training: training).baseQuantization, .bf16)
        training.bf16 = false
        XCTAssertNil(try TrainingModels.load(run, training: training).baseQuantization)
        run.useDora = true
        XCTAssertNil(try TrainingModels.baseStorage(run, productPrecision: .bfloat16))
        run.useDora = false
        run.loadIn8bit = true
        XCTAssertEqual(try TrainingModels.baseStorage(run, productPrecision: .bfloat16), BaseQuantization(.int8))
        run.loadIn8bit = false
        run.usePeft = false
        XCTAssertNil(try TrainingModels.baseStorage(run, productPrecision: .bfloat16))
    }

    /// `lora_target_parameters` adapts weights by parameter name beside `lora_target_modules` (null: the
    /// architecture's q_proj and v_proj, as PEFT fills them in); TRL's default `lora_dropout` 0.05 is
    /// refused with them, as PEFT refuses it.
    func testLoRATargetParametersFromTheRunFields() throws {
        var run = RunArguments()
        run.modelNameOrPath = SFTFixtures.modelDirectory.path
        run.usePeft = true
        run.loraR = 4
        run.loraTargetParameters = ["mlp.down_proj.weight"]
        XCTAssertThrowsError(try TrainingModels.load(run, seed: 1, gradientCheckpointing: false)) { error in
            XCTAssert("\(error)".contains("lora_dropout is 0.05; LoRA on parameters (target_parameters) works without dropout"), "\(error)")
        }
        run.loraDropout = 0
        let model = try TrainingModels.load(run, seed: 1, gradientCheckpointing: false)
        XCTAssertEqual(model.trainableParameters.map(\.name).filter { $0.hasSuffix("lora_A.weight") }, [
            "model.layers.0.self_attn.q_proj.lora_A.weight", "model.layers.0.self_attn.v_proj.lora_A.weight",
            "model.layers.0.mlp.down_proj.lora_A.weight",
        ])
        XCTAssertEqual(model.loraOptions?.targetParameters, ["mlp.down_proj.weight"])
    }

    /// `lora_modules_to_save` trains those modules whole beside the adapters: named as PEFT saves them,
    /// the reference policy (adapters off) keeps the base's weights while they change, and a checkpoint's
    /// adapter files (PEFT's keys, `modules_to_save`) restore them in place.
    func testLoRAModulesToSaveTrainBesideTheAdapters() throws {
        var run = RunArguments()
        run.modelNameOrPath = RepositoryFiles.url("Tests/FledgeRLTests/Fixtures/grpo/model").path  // untied (Fledge refuses a tied head)
        run.usePeft = true
        run.loraTargetModules = ["q_proj"]
        run.loraModulesToSave = ["lm_head", "embed_tokens"]
        let model = try TrainingModels.load(run, seed: 1, gradientCheckpointing: false)
        XCTAssertEqual(model.trainableParameters.map(\.name), [
            "model.embed_tokens.weight", "lm_head.weight",
            "model.layers.0.self_attn.q_proj.lora_A.weight", "model.layers.0.self_attn.q_proj.lora_B.weight",
            "model.layers.1.self_attn.q_proj.lora_A.weight", "model.layers.1.self_attn.q_proj.lora_B.weight",
        ])
        let sequences = [[1, 5, 9, 4, 7], [2, 8, 3]]
        let reference = ReferencePolicy.adaptersDisabled(model)
        let before = reference.logProbs(sequences, scoredFrom: [1, 1], batchSize: 2)
        XCTAssertEqual(model.logProbsWithoutGrad(sequences, scoredFrom: [1, 1], batchSize: 2), before, "B = 0 and untouched copies")
        for parameter in model.trainableParameters where !parameter.name.contains("lora_A") {
            parameter.tensor.withUnsafeMutableElements { for i in $0.indices { $0[i] += Float(i % 5) * 0.02 } }
        }
        let trained = model.logProbsWithoutGrad(sequences, scoredFrom: [1, 1], batchSize: 2)
        XCTAssertNotEqual(trained, before)
        XCTAssertEqual(reference.logProbs(sequences, scoredFrom: [1, 1], batchSize: 2), before, "the reference keeps the base's modules")
        XCTAssertEqual(model.logProbsWithoutGrad(sequences, scoredFrom: [1, 1], batchSize: 2), trained)

        let checkpoint = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-modules-to-save-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: checkpoint) }
        try model.saveTrainedWeights(to: checkpoint)
        let config = try String(contentsOf: checkpoint.appendingPathComponent("adapter_config.json"), encoding: .utf8)
        XCTAssert(config.contains("\"modules_to_save\": [\n    \"lm_head\",\n    \"embed_tokens\"\n  ]"), config)
        let resumed = try TrainingModels.load(run, seed: 1, gradientCheckpointing: false)
        let parameters = resumed.trainableParameters.map(\.tensor)
        try resumed.loadTrainedWeights(from: checkpoint)
        XCTAssert(zip(parameters, resumed.trainableParameters.map(\.tensor)).allSatisfy { $0 === $1 }, "restored in place")
        XCTAssertEqual(resumed.logProbsWithoutGrad(sequences, scoredFrom: [1, 1], batchSize: 2), trained)

        run.loraModulesToSave = ["o_proj"]
        XCTAssertThrowsError(try TrainingModels.load(run, seed: 1, gradientCheckpointing: false)) { error in
            XCTAssert("\(error)".contains("modules_to_save") && "\(error)".contains("o_proj"), "\(error)")
        }
    }

    func testMissingOrWrongModelDirectories() throws {
        var run = RunArguments()
        XCTAssertThrowsError(try TrainingModels.load(run, seed: 0, gradientCheckpointing: false)) { error in
            XCTAssert("\(error)".contains("model_name_or_path is not set"), "\(error)")
        }
        run.modelNameOrPath = "/nonexistent/fledge-model"
        XCTAssertThrowsError(try TrainingModels.load(run, seed: 0, gradientCheckpointing: false)) { error in
            XCTAssert("\(error)".contains("'/nonexistent/fledge-model' is neither an existing local path nor a Hugging Face Hub id"), "\(error)")
        }
        XCTAssertThrowsError(try TrainingModels.tokenizer(run))
        run.modelNameOrPath = SFTFixtures.modelDirectory.path
        run.usePeft = true
        run.loraTargetModules = ["qkv_proj"]
        XCTAssertThrowsError(try TrainingModels.load(run, seed: 0, gradientCheckpointing: false)) { error in
            XCTAssert("\(error)".contains("'qkv_proj' matches no module"), "\(error)")
        }
    }

    func testLoadIn4BitAnd8BitQuantizeTheBase() throws {
        var run = RunArguments()
        run.modelNameOrPath = RepositoryFiles.url("Tests/FledgeLMTests/Fixtures/quantized/base").path
        run.usePeft = true
        run.loraR = 4
        run.loadIn4bit = true
        XCTAssertEqual(try TrainingModels.load(run, seed: 1, gradientCheckpointing: false).baseQuantization, .nf4)
        run.bnb4bitQuantType = .fp4
        run.useBnbNestedQuant = true
        let fp4 = try TrainingModels.load(run, seed: 1, gradientCheckpointing: false)
        XCTAssertEqual(fp4.baseQuantization, .fp4)
        XCTAssertEqual(fp4.trainableParameters.map(\.name).filter { $0.contains("lora_") }.count, 4, "LoRA A and B on the default q_proj and v_proj")
        run.loadIn8bit = true
        XCTAssertThrowsError(try TrainingModels.load(run, seed: 1, gradientCheckpointing: false)) { error in
            XCTAssert("\(error)".contains("load_in_4bit and load_in_8bit are both true"), "\(error)")
        }
        run.loadIn4bit = false
        XCTAssertEqual(try TrainingModels.load(run, seed: 1, gradientCheckpointing: false).baseQuantization, .int8)
        run.usePeft = false
        XCTAssertThrowsError(try TrainingModels.load(run, seed: 1, gradientCheckpointing: false)) { error in
            XCTAssert("\(error)".contains("load_in_8bit freezes the base in int8: set use_peft: true"), "\(error)")
        }
    }

    func testQuantizingAModelWhoseRowsAreNotWholeBlocksNamesTheWeight() {
        var run = RunArguments()
        run.modelNameOrPath = SFTFixtures.modelDirectory.path
        run.usePeft = true
        run.loadIn4bit = true
        XCTAssertThrowsError(try TrainingModels.load(run, seed: 0, gradientCheckpointing: false)) { error in
            XCTAssert("\(error)".contains("model.layers.0.self_attn.q_proj.weight: rows of 24 values are not a whole number of nf4 blocks of 64"), "\(error)")
        }
    }

    /// A Hub id in `model_name_or_path` (with `model_revision`) is found offline in the Hugging Face cache
    /// that `HF_HUB_CACHE` names, laid out as huggingface_hub writes it (refs, blobs, relative symlinks).
    func testHubIdIsLoadedFromTheHuggingFaceCache() throws {
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-rl-hub-\(UUID().uuidString)")
        let repo = cache.appendingPathComponent("models--org--tiny")
        let commit = String(repeating: "c", count: 40)
        let snapshot = repo.appendingPathComponent("snapshots/\(commit)")
        try FileManager.default.createDirectory(at: snapshot, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: repo.appendingPathComponent("blobs"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: repo.appendingPathComponent("refs"), withIntermediateDirectories: true)
        for (index, name) in try FileManager.default.contentsOfDirectory(atPath: SFTFixtures.modelDirectory.path).enumerated() {
            let etag = String(format: "%040x", index + 1)
            try FileManager.default.copyItem(at: SFTFixtures.modelDirectory.appendingPathComponent(name),
                                             to: repo.appendingPathComponent("blobs/\(etag)"))
            try FileManager.default.createSymbolicLink(atPath: snapshot.appendingPathComponent(name).path,
                                                       withDestinationPath: "../../blobs/\(etag)")
        }
        try commit.write(to: repo.appendingPathComponent("refs/v1"), atomically: true, encoding: .utf8)
        setenv("HF_HUB_CACHE", cache.path, 1)
        setenv("HF_HUB_OFFLINE", "1", 1)
        defer {
            unsetenv("HF_HUB_CACHE")
            unsetenv("HF_HUB_OFFLINE")
            try? FileManager.default.removeItem(at: cache)
        }
        var run = RunArguments()
        run.modelNameOrPath = "org/tiny"
        run.modelRevision = "v1"
        XCTAssertEqual(try TrainingModels.modelDirectory(run).path, snapshot.path)
        let model = try TrainingModels.load(run, seed: 1, gradientCheckpointing: false)
        XCTAssertEqual(model.trainableParameters.count, model.namedWeights.count)
        run.modelRevision = "main"
        XCTAssertThrowsError(try TrainingModels.load(run, seed: 0, gradientCheckpointing: false)) { error in
            XCTAssert("\(error)".contains("model_name_or_path org/tiny: model org/tiny (revision main) is not in the Hugging Face cache"), "\(error)")
            XCTAssert("\(error)".contains("unset HF_HUB_OFFLINE"), "\(error)")
        }
    }
}
