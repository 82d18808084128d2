import Foundation
import XCTest
import FledgeTensor
@testable import FledgeLM

/// Tiny Gemma 2, Gemma 3, OLMo 2, SmolLM3, Phi-3 and Llama (with Llama 3 rope scaling) models converted to GGUF by llama.cpp's own
/// convert_hf_to_gguf.py (Scripts/reference/make_gguf_family_fixtures.py; F32, and Gemma 2 also as
/// Q8_0, kept in its blocks) compute what transformers computes with the Hugging Face models they
/// were converted from (with the file's weights where transformers reads the file): config as
/// llama.cpp reads it, log-probs within 1e-4, 30 greedy tokens identical. llama.cpp itself agrees
/// with the same references (greedy identical; the script records it).
final class GGUFFamilyTests: XCTestCase {
    static let models = ["gemma2_f32", "gemma2_q8_0", "gemma3_f32", "olmo2_f32", "smollm3_f32", "llama3rope_f32", "phi3_f32"]

    static func url(_ name: String) -> URL { Fixtures.directory.appendingPathComponent("gguf/families/\(name).gguf") }

    static func expected(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: Fixtures.directory.appendingPathComponent("gguf/families/expected.json"))
        let all = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try XCTUnwrap(all[name] as? [String: Any], name)
    }

    func testConfigMatchesTheConvertedModel() throws {
        for name in Self.models {
            let model = try LanguageModel(directory: Self.url(name))
            let config = try XCTUnwrap(try Self.expected(name)["config"] as? [String: Any])
            XCTAssertEqual(model.config.modelType, config["model_type"] as? String, name)
            XCTAssertEqual(model.config.vocabSize, config["vocab_size"] as? Int, name)
            XCTAssertEqual(model.config.hiddenSize, config["hidden_size"] as? Int, name)
            XCTAssertEqual(model.config.layers, config["num_hidden_layers"] as? Int, name)
            XCTAssertEqual(model.config.heads, config["num_attention_heads"] as? Int, name)
            XCTAssertEqual(model.config.kvHeads, config["num_key_value_heads"] as? Int, name)
            if let headDim = config["head_dim"] as? Int { XCTAssertEqual(model.config.headDim, headDim, name) }
            XCTAssertEqual(model.config.tieWordEmbeddings, config["tie_word_embeddings"] as? Bool, name)
        }
    }

    /// The family fields of config.json that llama.cpp reads or fixes, as Fledge maps them.
    func testFamilyFieldsAsLlamaCppReadsThem() throws {
        func json(_ name: String) throws -> JSONObject {
            let file = try GGUFFile(url: Self.url(name))
            return try GGUFModelConfig.configJSON(file, architecture: try GGUFArchitecture(file))
        }
        let gemma2 = try json("gemma2_f32")
        XCTAssertEqual(gemma2["query_pre_attn_scalar"], .double(12))
        XCTAssertEqual(gemma2["attn_logit_softcapping"], .double(4))
        XCTAssertEqual(gemma2["final_logit_softcapping"], .double(5))
        XCTAssertEqual(gemma2["sliding_window"], .int(5))
        XCTAssertEqual(gemma2["layer_types"], .array(["sliding_attention", "full_attention", "sliding_attention", "full_attention"].map(JSONValue.string)))
        XCTAssertEqual(gemma2["hidden_activation"], .string("gelu_pytorch_tanh"))
        let gemma3 = try json("gemma3_f32")
        XCTAssertEqual(gemma3["model_type"], .string("gemma3_text"))
        XCTAssertEqual(gemma3["layer_types"], .array((0..<7).map { .string($0 == 5 ? "full_attention" : "sliding_attention") }))
        XCTAssertEqual(gemma3["rope_local_base_freq"], .double(10_000))
        XCTAssertEqual(gemma3["rope_theta"], .double(1_000_000))
        XCTAssertEqual(gemma3["final_logit_softcapping"], .null)
        XCTAssertEqual(try json("smollm3_f32")["no_rope_layers"], .array([1, 1, 1, 0].map(JSONValue.int)))
        XCTAssertEqual(try json("olmo2_f32")["attention_bias"], .bool(false))
        // Llama 3 rope scaling recovered from the converter's rope_freqs divisors.
        XCTAssertEqual(try json("llama3rope_f32")["rope_scaling"], .object(JSONObject([
            ("rope_type", .string("llama3")), ("factor", .double(8)), ("low_freq_factor", .double(1)), ("high_freq_factor", .double(32)),
            ("original_max_position_embeddings", .int(4096))])))
    }

    func testTokenLogProbsMatchTransformers() throws {
        for name in Self.models {
            let model = try LanguageModel(directory: Self.url(name))
            let cases = try XCTUnwrap(try Self.expected(name)["score"] as? [[String: Any]])
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
        for name in Self.models {
            let model = try LanguageModel(directory: Self.url(name))
            let greedy = try XCTUnwrap(try Self.expected(name)["greedy"] as? [String: Any])
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

    /// A layer count beyond the file's tensors is refused by its key before anything per layer is built.
    func testBlockCountBeyondTheTensorsIsAnErrorNamingTheKey() throws {
        let key = "gemma3.block_count"
        // After the key: the type code (uint32, 4 bytes), then the count, whose top byte is set here.
        let url = try GGUFFixtures.patched("families/gemma3_f32", key, key, self) { bytes, end in bytes[end + 7] = 0x7f }
        XCTAssertThrowsError(try LanguageModel(directory: url)) { error in
            XCTAssertTrue("\(error)".contains(key) && "\(error)".contains("tensors"), "\(error)")
        }
    }

    /// A negative soft cap is refused by its key.
    func testNegativeSoftCapIsAnErrorNamingTheKey() throws {
        let key = "gemma2.attn_logit_softcapping"
        // After the key: the type code (4 bytes), then the float32 value, whose sign is its last byte's top bit.
        let url = try GGUFFixtures.patched("families/gemma2_f32", key, key, self) { bytes, end in bytes[end + 7] |= 0x80 }
        XCTAssertThrowsError(try LanguageModel(directory: url)) { error in
            XCTAssertTrue("\(error)".contains(key) && "\(error)".contains("-4"), "\(error)")
        }
    }
}

/// Gemma's and Phi-3's SentencePiece-style (`llama`) GGUF vocabularies, as transformers builds them
/// from the same file (Scripts/reference/make_gguf_family_fixtures.py, tokenizers.expected.json):
/// Gemma's without a `▁` prefix, its space-run tokens respelled and merges in token order; Phi-3's
/// with a `▁` before every piece between added tokens. Token ids (with and without special
/// tokens) and decoded text identical on code, Unicode, numbers, whitespace runs and special tokens.
final class GGUFSentencePieceStyleTests: XCTestCase {
    func testIdsAndDecodingMatchTransformers() throws {
        let data = try Data(contentsOf: Fixtures.directory.appendingPathComponent("gguf/families/tokenizers.expected.json"))
        let all = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]])
        for name in ["gemma3_tokenizer", "phi3_tokenizer"] {
            let expected = try XCTUnwrap(all[name], name)
            let tokenizer = try Tokenizer(gguf: Fixtures.directory.appendingPathComponent("gguf/families/\(name).gguf"))
            let corpus = try XCTUnwrap(expected["corpus"] as? [String])
            let ids = try XCTUnwrap(expected["ids"] as? [[Int]]), withSpecial = try XCTUnwrap(expected["with_special"] as? [[Int]])
            let decoded = try XCTUnwrap(expected["decoded"] as? [String])
            for (index, text) in corpus.enumerated() {
                XCTAssertEqual(tokenizer.encode(text), ids[index], "\(name): \(text.debugDescription)")
                let special = tokenizer.encode(text, addSpecialTokens: true)
                XCTAssertEqual(special, withSpecial[index], "\(name): \(text.debugDescription)")
                XCTAssertEqual(tokenizer.decode(special), decoded[index], "\(name): \(text.debugDescription)")
            }
        }
    }

    /// Gemma's tokens of spaces alone, stored with real spaces, are spelled `▁▁` as transformers spells them.
    func testGemmaSpaceRunsAreRespelled() throws {
        let tokenizer = try Tokenizer(gguf: Fixtures.directory.appendingPathComponent("gguf/families/gemma3_tokenizer.gguf"))
        XCTAssertNotNil(tokenizer.id(of: "\u{2581}\u{2581}"))
        XCTAssertNil(tokenizer.id(of: "  "))
    }
}
