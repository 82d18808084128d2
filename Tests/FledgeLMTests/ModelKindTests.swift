import Foundation
import XCTest
@testable import FledgeLM
import FledgeTensor

/// Causal LMs and sequence classifiers are separate types sharing the decoder; config.json's
/// `architectures` decide which one a directory is.
final class ModelKindTests: XCTestCase {
    func testLoadingADirectoryGivesTheKindItsArchitecturesName() throws {
        for name in ModelFixtures.causal {
            XCTAssertTrue(try PretrainedModel.load(directory: ModelFixtures.directory(name)) is LanguageModel, name)
        }
        for name in ModelFixtures.classifiers {
            XCTAssertTrue(try PretrainedModel.load(directory: ModelFixtures.directory(name)) is SequenceClassifier, name)
        }
    }

    func testADirectoryOfTheWrongKindIsAnErrorNamingItsArchitectures() throws {
        XCTAssertThrowsError(try LanguageModel(directory: ModelFixtures.directory("llama_reward"))) { error in
            let message = "\(error)"
            for part in ["config.json", "'architectures'", "'LlamaForSequenceClassification'", "a sequence classifier",
                         "needs a causal language model"] {
                XCTAssertTrue(message.contains(part), "'\(part)' not in: \(message)")
            }
        }
        XCTAssertThrowsError(try SequenceClassifier(directory: ModelFixtures.directory("qwen3_qknorm"))) { error in
            let message = "\(error)"
            for part in ["config.json", "'architectures'", "ForCausalLM'", "a causal language model", "needs a sequence classifier"] {
                XCTAssertTrue(message.contains(part), "'\(part)' not in: \(message)")
            }
        }
    }

    /// A model is declared with zero-stride placeholders before its weights are loaded, so listing
    /// the weights of a 70B-parameter shape holds a few bytes per tensor, not 280 GB.
    func testExpectedWeightsOfALargeShapeTakeNoMemory() throws {
        let config: JSONObject = [
            "model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 128_256, "hidden_size": 8192,
            "intermediate_size": 28_672, "num_hidden_layers": 80, "num_attention_heads": 64, "num_key_value_heads": 8,
        ]
        MemoryStats.resetPeak()
        let before = MemoryStats.liveBytes
        let weights = try PretrainedModel.expectedWeights(configJSON: config)
        XCTAssertLessThan(MemoryStats.peakBytes - before, 1 << 20)
        XCTAssertEqual(weights.count, 2 + 80 * 9 + 1)
        XCTAssertEqual(weights.first?.1, [128_256, 8192])
        XCTAssertEqual(weights.first { $0.0 == "model.layers.79.self_attn.k_proj.weight" }?.1, [1024, 8192])
        XCTAssertEqual(weights.last?.0, "lm_head.weight")
    }
}
