import XCTest
@testable import FledgeLM

/// OLMo 2 (`olmo2`) computes what transformers 5.24 computes on the fixture: the post-norm block,
/// q/k RMSNorms over the whole projections (48 and 16 wide, not per head of 8), attention biases,
/// an untied head and q_proj/o_proj square while k/v are not.
final class OLMo2Tests: XCTestCase {
    func testLogProbsMatchTransformersAloneAndInALeftPaddedBatch() throws {
        try FamilyFixtures.checkLogProbs(try LanguageModel(directory: FamilyFixtures.directory("olmo2")), "olmo2")
    }

    /// One prompt stops early at EOS.
    func testGreedyGenerationsMatchTransformers() throws {
        try FamilyFixtures.checkGreedyGenerations(try LanguageModel(directory: FamilyFixtures.directory("olmo2")), "olmo2")
    }

    func testClassifierScoresMatchTransformers() throws {
        try FamilyFixtures.checkClassifier("olmo2_classifier")
    }

    func testLoRALogProbsAndGradientsMatchPEFT() throws {
        try FamilyFixtures.checkLoRA("olmo2")
    }

    /// The norms are named and shaped as transformers' (`q_norm` over all 6 heads of 8, `k_norm`
    /// over both KV heads), and a layer has no input norm.
    func testNormsAreOverTheWholeProjectionsAfterTheBlocks() throws {
        let model = try LanguageModel(directory: FamilyFixtures.directory("olmo2"))
        let shapes = Dictionary(uniqueKeysWithValues: model.decoder.namedParameters.map { ($0.0, $0.1.shape) })
        XCTAssertEqual(shapes["layers.0.self_attn.q_norm.weight"], [48])
        XCTAssertEqual(shapes["layers.0.self_attn.k_norm.weight"], [16])
        XCTAssertEqual(shapes["layers.0.post_feedforward_layernorm.weight"], [48])
        XCTAssertNil(shapes["layers.0.input_layernorm.weight"])
    }

    /// The published checkpoints' field names (top-level `rope_theta`) give the same model.
    func testTransformers4ConfigGivesTheSameLogProbs() throws {
        let directory = try FamilyFixtures.directory("olmo2", withConfig: "config.transformers4.json", self)
        let errors = try FamilyFixtures.logProbErrors(try LanguageModel(directory: directory), "olmo2")
        XCTAssertLessThan(max(errors.alone, errors.batch), 1e-4)
    }

    /// transformers' OLMo 2 default `rms_norm_eps` is 1e-5, not the 1e-6 of the Llama families.
    func testMissingRMSNormEpsIsOLMo2sDefault() throws {
        var object = try ConfigReader(file: FamilyFixtures.directory("olmo2").appendingPathComponent("config.json").path).object
        object["rms_norm_eps"] = nil
        let reader = ConfigReader(file: "config.json", object: object)
        XCTAssertEqual(try OLMo2.config(reader, shared: try ModelConfig(reader: reader)).rmsNormEps, 1e-5)
    }
}
