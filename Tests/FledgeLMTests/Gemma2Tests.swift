import XCTest
@testable import FledgeLM

/// Gemma 2 computes what transformers computes on the fixture `families/gemma2` (`(1 + w)` norms
/// around attention and MLP, √hidden embedding scale, GeGLU, `query_pre_attn_scalar`, attention
/// and final-logit soft-caps that bite, a window of 5 on alternating layers): log-probs within
/// 1e-4 alone and batched, 30 greedy tokens, classifier scores within 1e-4, PEFT LoRA gradients
/// within 1e-5 relative.
final class Gemma2Tests: XCTestCase {
    func testGemma2LogProbsMatchTransformers() throws {
        for configFile in ["config.json", "config.transformers4.json"] {
            let directory = try FamilyFixtures.directory("gemma2", withConfig: configFile, self)
            try FamilyFixtures.checkLogProbs(try LanguageModel(directory: directory), "gemma2", label: "gemma2 (\(configFile))")
        }
    }

    func testGemma2GreedyGenerationsMatchTransformers() throws {
        try FamilyFixtures.checkGreedyGenerations(try LanguageModel(directory: FamilyFixtures.directory("gemma2")), "gemma2")
    }

    func testGemma2ClassifierScoresMatchTransformers() throws {
        try FamilyFixtures.checkClassifier("gemma2_classifier")
    }

    func testGemma2LoRAGradientsMatchPEFT() throws {
        for checkpointing in [false, true] { try FamilyFixtures.checkLoRA("gemma2", gradientCheckpointing: checkpointing) }
    }

    func testGemma2ReadsItsActivationFieldAndRefusesOthers() throws {
        let directory = try FamilyFixtures.copy("gemma2", self) {
            $0["hidden_act"] = "gelu_pytorch_tanh"  // as published Gemma 2 configs have it: not Llama's silu, and ignored
        }
        XCTAssertNil(FamilyFixtures.loadError(directory))
        let gelu = try FamilyFixtures.copy("gemma2", self) { $0["hidden_activation"] = "gelu" }
        let message = try XCTUnwrap(FamilyFixtures.loadError(gelu))
        XCTAssertTrue(message.contains("config.json") && message.contains("'hidden_activation'") && message.contains("'gelu'"), message)
    }

    func testGemma2SoftCapsMustBePositiveOrNull() throws {
        let negative = try FamilyFixtures.copy("gemma2", self) { $0["attn_logit_softcapping"] = -4.0 }
        let message = try XCTUnwrap(FamilyFixtures.loadError(negative))
        XCTAssertTrue(message.contains("config.json") && message.contains("'attn_logit_softcapping'") && message.contains("-4"), message)
        let uncapped = try FamilyFixtures.copy("gemma2", self) { $0["final_logit_softcapping"] = NSNull() }
        let model = try LanguageModel(directory: uncapped)
        XCTAssertNil(model.head.softCap, "null means no cap")
        XCTAssertEqual(try LanguageModel(directory: FamilyFixtures.directory("gemma2")).head.softCap, 5)
    }

    func testGemma2TiesEmbeddingsWhenConfigLeavesItOut() throws {
        let directory = try FamilyFixtures.copy("gemma2", self) { $0["tie_word_embeddings"] = nil }
        XCTAssertTrue(try LanguageModel(directory: directory).config.tieWordEmbeddings, "transformers' Gemma 2 default")
    }
}
