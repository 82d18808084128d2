import XCTest
@testable import FledgeLM

/// SmolLM3 (`smollm3`) computes what transformers 5.24 computes on the fixture, whose layers are
/// rope + window, NoPE + full, NoPE + window and rope + full, with MLP biases; and its config is
/// read as transformers reads it (`no_rope_layers[i] == 1` means layer i uses rope).
final class SmolLM3Tests: XCTestCase {
    func testLogProbsMatchTransformersAloneAndInALeftPaddedBatch() throws {
        try FamilyFixtures.checkLogProbs(try LanguageModel(directory: FamilyFixtures.directory("smollm3")), "smollm3")
    }

    func testGreedyGenerationsMatchTransformers() throws {
        try FamilyFixtures.checkGreedyGenerations(try LanguageModel(directory: FamilyFixtures.directory("smollm3")), "smollm3")
    }

    func testClassifierScoresMatchTransformers() throws {
        try FamilyFixtures.checkClassifier("smollm3_classifier")
    }

    func testLoRALogProbsAndGradientsMatchPEFT() throws {
        try FamilyFixtures.checkLoRA("smollm3")
    }

    /// The published checkpoints' field names (top-level `rope_theta`) give the same model.
    func testTransformers4ConfigGivesTheSameLogProbs() throws {
        let directory = try FamilyFixtures.directory("smollm3", withConfig: "config.transformers4.json", self)
        let errors = try FamilyFixtures.logProbErrors(try LanguageModel(directory: directory), "smollm3")
        XCTAssertLessThan(max(errors.alone, errors.batch), 1e-4)
    }

    /// Without `layer_types`, transformers slides the NoPE layers when `use_sliding_window`; without
    /// `no_rope_layers`, every `no_rope_layer_interval`-th layer is NoPE. Given `layer_types`, its
    /// masks apply whatever `use_sliding_window` says, as in transformers' eager and SDPA attention.
    func testLayersAreDerivedAsTransformersDerivesThem() throws {
        var object = try fixtureConfig()
        object["use_sliding_window"] = false
        XCTAssertEqual(try smolConfig(object).slidingWindows, [6, nil, 6, nil])
        object["use_sliding_window"] = true
        object["layer_types"] = nil
        var config = try smolConfig(object)
        XCTAssertEqual(config.rotary, [true, false, false, true])
        XCTAssertEqual(config.slidingWindows, [nil, 6, 6, nil])
        object["use_sliding_window"] = false
        XCTAssertEqual(try smolConfig(object).slidingWindows, [nil, nil, nil, nil])
        object["no_rope_layers"] = nil
        object["no_rope_layer_interval"] = 2
        config = try smolConfig(object)
        XCTAssertEqual(config.rotary, [true, false, true, false])
        XCTAssertTrue(config.mlpBias)
        XCTAssertFalse(config.attentionBias)
    }

    func testUnsupportedNoRopeLayersAreRefusedNamingTheField() throws {
        for (field, value, expected) in [("no_rope_layers", [1, 0, 1] as JSONValue, "each of the 4 layers"),
                                         ("no_rope_layers", [1, 2, 0, 1] as JSONValue, "must list 0 or 1"),
                                         ("no_rope_layer_interval", 0 as JSONValue, "must be positive, got 0")] {
            var object = try fixtureConfig()
            if field == "no_rope_layer_interval" { object["no_rope_layers"] = nil }
            object[field] = value
            XCTAssertThrowsError(try smolConfig(object), field) { error in
                let text = "\(error)"
                XCTAssert(text.contains("config.json") && text.contains(field) && text.contains(expected), text)
            }
        }
    }

    private func fixtureConfig() throws -> JSONObject {
        try ConfigReader(file: FamilyFixtures.directory("smollm3").appendingPathComponent("config.json").path).object
    }

    private func smolConfig(_ object: JSONObject) throws -> SmolLM3.Config {
        let reader = ConfigReader(file: "config.json", object: object)
        return try SmolLM3.config(reader, shared: try ModelConfig(reader: reader))
    }
}
