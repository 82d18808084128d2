import Foundation
import XCTest
@testable import FledgeLM

/// Tiny GGUF models written as llama.cpp's converter writes them (Scripts/reference/make_gguf_fixtures.py),
/// (llama, qwen2, qwen3, phi3) in F32, F16, BF16, mixes of Q4_1, Q5_0, Q5_1, F16 and BF16, and Q8_0, Q4_0 and Q4_K
/// (kept in their blocks, `GGUFQuantizedWeightsTests`), compute what transformers computes
/// when it loads the same files (`from_pretrained(dir, gguf_file=…)`): log-probs within 1e-4 and
/// 30 greedy tokens identical.
final class GGUFModelTests: XCTestCase {
    func testConfigMatchesTransformers() throws {
        for name in GGUFFixtures.models {
            let model = try LanguageModel(directory: GGUFFixtures.url(name))
            let config = try XCTUnwrap(try GGUFFixtures.expected(name)["config"] as? [String: Any])
            XCTAssertEqual(model.config.vocabSize, config["vocab_size"] as? Int, name)
            XCTAssertEqual(model.config.hiddenSize, config["hidden_size"] as? Int, name)
            XCTAssertEqual(model.config.layers, config["num_hidden_layers"] as? Int, name)
            XCTAssertEqual(model.config.heads, config["num_attention_heads"] as? Int, name)
            XCTAssertEqual(model.config.kvHeads, config["num_key_value_heads"] as? Int, name)
            XCTAssertEqual(model.config.tieWordEmbeddings, config["tie_word_embeddings"] as? Bool, name)
            XCTAssertEqual(model.config.eosTokenIds, [try XCTUnwrap(config["eos_token_id"] as? Int)], name)
            XCTAssertEqual(model.generationConfig.eosTokenIds, model.config.eosTokenIds, name)
        }
    }

    func testTokenLogProbsMatchTransformers() throws {
        for name in GGUFFixtures.models {
            let model = try LanguageModel(directory: GGUFFixtures.url(name))
            let cases = try XCTUnwrap(try GGUFFixtures.expected(name)["score"] as? [[String: Any]])
            var worst: Float = 0
            for entry in cases {
                let ids = try XCTUnwrap(entry["ids"] as? [Int])
                let expected = try XCTUnwrap(entry["logprobs"] as? [Double])
                let got = model.tokenLogProbs([ids])[0]
                XCTAssertEqual(got.count, expected.count, name)
                for (a, e) in zip(got, expected) { worst = max(worst, abs(a - Float(e))) }
            }
            print("\(name): log-probs max abs error \(worst)")
            XCTAssertLessThan(worst, 1e-4, name)
        }
    }

    func testGreedyTokensMatchTransformers() throws {
        for name in GGUFFixtures.models {
            let model = try LanguageModel(directory: GGUFFixtures.url(name))
            let greedy = try XCTUnwrap(try GGUFFixtures.expected(name)["greedy"] as? [String: Any])
            var options = SamplingOptions()
            options.greedy = true
            options.maxNewTokens = 30
            options.ignoreEOS = true
            options.quantizedActivations = false  // transformers' float products
            for (prompt, expected) in zip(try XCTUnwrap(greedy["prompts"] as? [[Int]]), try XCTUnwrap(greedy["new_ids"] as? [[Int]])) {
                XCTAssertEqual(model.generate([prompt], options: options)[0].ids, expected, "\(name): prompt \(prompt)")
            }
        }
    }

    func testSavedGGUFModelLoadsAsAModelDirectory() throws {
        let model = try LanguageModel(directory: GGUFFixtures.url("llama_mixed"))
        let directory = try temporaryDirectory(self)
        try model.saveModel(to: directory)
        let saved = try LanguageModel(directory: directory)
        XCTAssertEqual(saved.config.modelType, "llama")
        XCTAssertFalse(saved.config.tieWordEmbeddings)
        let ids = [5, 17, 300, 2, 999, 41]
        XCTAssertEqual(saved.tokenLogProbs([ids]), model.tokenLogProbs([ids]))
    }
}
