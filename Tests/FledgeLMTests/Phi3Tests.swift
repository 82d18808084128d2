import XCTest
@testable import FledgeLM
import FledgeNN
import FledgeTensor

/// Phi-3 (`phi3`) computes what transformers 5.24 and PEFT compute on the tiny fixture of
/// `Fixtures/families/phi3`: fused `qkv_proj` and `gate_up_proj`, partial rotary embeddings,
/// LongRoPE with short and long factors and its attention factor, a sliding window on every layer.
final class Phi3Tests: XCTestCase {
    static let directory = FamilyFixtures.directory("phi3")

    /// Alone, the 13- and 8-token sequences use the short factors and the 30-token one the long;
    /// in one left-padded batch all three use the long factors (the batch's largest position
    /// picks), as in transformers.
    func testLogProbsMatchTransformersAloneAndInLeftPaddedBatch() throws {
        try FamilyFixtures.checkLogProbs(try LanguageModel(directory: Self.directory), "phi3")
    }

    /// Every prompt passes original_max_position_embeddings (24) within its 30 new tokens: the
    /// step that crosses it recomputes the whole sequence with the long factors, as transformers'
    /// `generate` does for Phi-3, alone and as a left-padded batch.
    func testGreedyTokensMatchTransformersAcrossTheLongRopeSwitch() throws {
        try FamilyFixtures.checkGreedyGenerations(try LanguageModel(directory: Self.directory), "phi3")
    }

    func testClassifierScoresMatchTransformers() throws {
        try FamilyFixtures.checkClassifier("phi3_classifier")
    }

    /// PEFT's adapter on the fused `qkv_proj` and `gate_up_proj` (and `o_proj`, `down_proj`)
    /// loads under those names and gives PEFT's log-probs and gradients.
    func testLoRAOnFusedProjectionsMatchesPEFT() throws {
        let model = try LanguageModel(directory: Self.directory)
        try model.loadAdapter(from: Self.directory.appendingPathComponent("peft_adapter"))
        XCTAssertTrue(model.trainableParameters.contains {
            $0.name == "model.layers.0.self_attn.qkv_proj.lora_B.weight" && $0.tensor.shape == [80, 4]
        })
        try FamilyFixtures.checkLoRA("phi3", lossTolerance: 1e-3)
    }

    /// Gradient checkpointing recomputes Phi-3's layers (fused projections, adapters on them) in
    /// backward and gives the same LoRA gradients.
    func testGradientCheckpointingGivesTheSameLoRAGradients() throws {
        let sequence = ints((try FamilyFixtures.expected("phi3")["lora"] as! [String: Any])["sequence"])
        func gradients(checkpointing: Bool) throws -> [String: [Float]] {
            let model = try LanguageModel(directory: Self.directory)
            try model.loadAdapter(from: Self.directory.appendingPathComponent("peft_adapter"))
            model.gradientCheckpointing = checkpointing
            model.sequenceLogProbs([sequence], scoredFrom: [1]).logProbs.sum().backward()
            return Dictionary(uniqueKeysWithValues: model.trainableParameters.map { ($0.name, $0.tensor.grad!.toArray()) })
        }
        let plain = try gradients(checkpointing: false), checkpointed = try gradients(checkpointing: true)
        XCTAssertEqual(plain.count, 24, "A and B of 4 projections in each of 3 layers")
        for (name, values) in plain { XCTAssertLessThan(relativeError(checkpointed[name]!, values), 1e-6, name) }
    }

    /// `all-linear` on Phi-3 means its own projections, and the saved adapter names them as PEFT does.
    func testAllLinearAdapterIsSavedUnderTheFusedModuleNames() throws {
        let model = try LanguageModel(directory: Self.directory)
        try model.addLoRA(LoRAOptions(r: 2, alpha: 4, targetModules: [LoRAOptions.allLinear]))
        XCTAssertEqual(LoRAOptions.shortNames(of: model.loraModules.map(\.0)), ["o_proj", "qkv_proj", "gate_up_proj", "down_proj"])
        let directory = try temporaryDirectory(self)
        try model.saveAdapter(to: directory)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("adapter_config.json")))
        XCTAssertEqual((config as! [String: Any])["target_modules"] as? [String], ["o_proj", "qkv_proj", "gate_up_proj", "down_proj"])
        let reloaded = try LanguageModel(directory: Self.directory)
        try reloaded.loadAdapter(from: directory)
        XCTAssertEqual(reloaded.loraModules.map(\.0), model.loraModules.map(\.0))
        XCTAssertThrowsError(try LanguageModel(directory: Self.directory).addLoRA(LoRAOptions(targetModules: ["q_proj"]))) { error in
            XCTAssertEqual(error as? AdapterError, .unmatchedTarget("q_proj", adaptable: ["o_proj", "qkv_proj", "gate_up_proj", "down_proj"]))
        }
    }

    /// The published checkpoints' layout (`rope_scaling`, top-level `partial_rotary_factor` and
    /// `rope_theta`) reads as the same model.
    func testTransformers4ConfigGivesTheSameLogProbs() throws {
        let directory = try FamilyFixtures.directory("phi3", withConfig: "config.transformers4.json", self)
        let sequences = (try FamilyFixtures.expected("phi3")["score"] as! [[String: Any]]).map { ints($0["ids"]) }
        let model = try LanguageModel(directory: directory), reference = try LanguageModel(directory: Self.directory)
        XCTAssertEqual(model.config.rope, reference.config.rope)
        XCTAssertEqual(model.tokenLogProbs(sequences), reference.tokenLogProbs(sequences))
    }

    func testLongRopeFactorCountsAndPartialRotaryAreChecked() throws {
        func loadError(_ edit: (inout [String: Any]) -> Void) throws -> String {
            try XCTUnwrap(FamilyFixtures.loadError(try FamilyFixtures.copy("phi3", self, editingConfig: edit)), "loading succeeded")
        }
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.directory.appendingPathComponent("config.json")))
        let rope = (config as! [String: Any])["rope_parameters"] as! [String: Any]
        var message = try loadError { $0["rope_parameters"] = rope.merging(["short_factor": [1.0, 2.0]]) { $1 } }
        XCTAssertTrue(message.contains("rope_parameters.short_factor") && message.contains("6"), message)
        message = try loadError { $0["rope_parameters"] = rope.merging(["partial_rotary_factor": 0.6]) { $1 } }
        XCTAssertTrue(message.contains("partial_rotary_factor") && message.contains("positive even"), message)
        message = try loadError { $0["rope_parameters"] = rope.filter { $0.key != "long_factor" } }
        XCTAssertTrue(message.contains("rope_parameters.long_factor"), message)
        message = try loadError { $0["model_type"] = "llama" }
        XCTAssertTrue(message.contains("'longrope'") && message.contains("phi3 only"), message)
    }

    /// A table narrower than the head rotates the head's first dims and copies the rest, forward
    /// and backward.
    func testPartialRotaryLeavesTheTrailingDimsUnchanged() {
        let table = RotaryTable(inverseFrequencies: [1, 0.1], attentionScaling: 1.5)
        let values = (0..<12).map { Float($0) - 5.5 }
        let x = Tensor(shape: [1, 2, 1, 6], values: values)
        x.requiresGrad = true
        let y = Tensor.rotaryEmbedding(x, positions: [0, 3], table: table)
        let out = y.toArray()
        XCTAssertEqual(Array(out[4..<6]), Array(values[4..<6]))
        XCTAssertEqual(Array(out[10..<12]), Array(values[10..<12]))
        XCTAssertEqual(Array(out[0..<4]), values[0..<4].map { $0 * 1.5 }, "position 0 only scales")
        let angle = Float(3)
        XCTAssertEqual(out[6], 1.5 * (values[6] * cos(angle) - values[8] * sin(angle)), accuracy: 1e-5)
        y.sum().backward()
        XCTAssertEqual(Array(x.grad!.toArray()[10..<12]), [1, 1])
    }
}
