import XCTest
@testable import FledgeLM

/// Gemma 3 text computes what transformers computes on the fixture `families/gemma3_text`
/// (Gemma 2's block with `(1 + w)` q/k norms, biases, no soft-caps, layers [local, local, global,
/// local] with a window of 6, local rope θ 1e4 and global θ 1e6 with linear scaling 8): log-probs
/// within 1e-4 alone and batched (from the transformers 5 and the transformers 4 config layouts),
/// 30 greedy tokens, classifier scores within 1e-4, PEFT LoRA gradients within 1e-5 relative.
final class Gemma3TextTests: XCTestCase {
    func testGemma3TextLogProbsMatchTransformers() throws {
        for configFile in ["config.json", "config.transformers4.json"] {
            let directory = try FamilyFixtures.directory("gemma3_text", withConfig: configFile, self)
            try FamilyFixtures.checkLogProbs(try LanguageModel(directory: directory), "gemma3_text", label: "gemma3_text (\(configFile))")
        }
    }

    func testGemma3TextGreedyGenerationsMatchTransformers() throws {
        try FamilyFixtures.checkGreedyGenerations(try LanguageModel(directory: FamilyFixtures.directory("gemma3_text")), "gemma3_text")
    }

    func testGemma3TextClassifierScoresMatchTransformers() throws {
        try FamilyFixtures.checkClassifier("gemma3_text_classifier")
    }

    func testGemma3TextLoRAGradientsMatchPEFT() throws {
        for checkpointing in [false, true] { try FamilyFixtures.checkLoRA("gemma3_text", gradientCheckpointing: checkpointing) }
    }

    func testGemma3TextLayerPatternFromSlidingWindowPattern() throws {
        // Without layer_types, every sliding_window_pattern-th layer is global.
        let directory = try FamilyFixtures.copy("gemma3_text", self) {
            $0["layer_types"] = nil
            $0["sliding_window_pattern"] = 2
        }
        let model = try LanguageModel(directory: directory)
        let windows = model.decoder.layers.map { ($0 as! SandwichNormDecoderLayer).attention.slidingWindow }
        XCTAssertEqual(windows, [6, nil, 6, nil])
        let zero = try FamilyFixtures.copy("gemma3_text", self) {
            $0["layer_types"] = nil
            $0["sliding_window_pattern"] = 0
        }
        let message = try XCTUnwrap(FamilyFixtures.loadError(zero))
        XCTAssertTrue(message.contains("config.json") && message.contains("'sliding_window_pattern'"), message)
    }

    func testGemma3TextPerLayerTypeRopeNeedsBothTypes() throws {
        let directory = try FamilyFixtures.copy("gemma3_text", self) {
            var rope = $0["rope_parameters"] as! [String: Any]
            rope["sliding_attention"] = nil
            $0["rope_parameters"] = rope
        }
        let message = try XCTUnwrap(FamilyFixtures.loadError(directory))
        XCTAssertTrue(message.contains("config.json") && message.contains("rope_parameters.sliding_attention"), message)
    }
}
