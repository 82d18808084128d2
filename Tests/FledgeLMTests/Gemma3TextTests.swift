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
            let (alone, batch) = try FamilyFixtures.logProbErrors(try LanguageModel(directory: directory), "gemma3_text")
            print("gemma3_text (\(configFile)): log-probs max abs error alone \(alone), left-padded batch \(batch)")
            XCTAssertLessThan(alone, 1e-4, configFile)
            XCTAssertLessThan(batch, 1e-4, configFile)
        }
    }

    func testGemma3TextGreedyGenerationsMatchTransformers() throws {
        try FamilyFixtures.checkGreedyGenerations(try LanguageModel(directory: FamilyFixtures.directory("gemma3_text")), "gemma3_text")
    }

    func testGemma3TextClassifierScoresMatchTransformers() throws {
        let error = try FamilyFixtures.classifierError("gemma3_text_classifier")
        print("gemma3_text_classifier: scores max abs error \(error)")
        XCTAssertLessThan(error, 1e-4)
    }

    func testGemma3TextLoRAGradientsMatchPEFT() throws {
        for checkpointing in [false, true] {
            let result = try FamilyFixtures.loraErrors("gemma3_text", gradientCheckpointing: checkpointing)
            print("gemma3_text LoRA (gradient checkpointing \(checkpointing)): log-probs max abs error \(result.logProbs), "
                  + "gradients max relative error \(result.gradients)")
            XCTAssertLessThan(result.logProbs, 1e-4, "gradient checkpointing \(checkpointing)")
            XCTAssertLessThan(result.gradients, 1e-5, "gradient checkpointing \(checkpointing)")
        }
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
