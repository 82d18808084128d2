import Foundation
import XCTest
import FledgeTensor
@testable import FledgeLM

/// Tokenizers read from the tiny GGUF fixtures (byte-level BPE, and a SentencePiece vocabulary whose
/// merges are rebuilt from its scores) give the ids, text and chat rendering transformers' GGUF
/// tokenizer gives for the same files, over a corpus of code, Unicode, numbers, whitespace and
/// special tokens; the `smollm` pre-tokenizer splits digits as llama.cpp does.
final class GGUFTokenizerTests: XCTestCase {
    /// What transformers' tokenizer gave for fixture `name` (a model's `tokenizer` entry, or a tokenizer-only file's entry).
    private func tokenizerExpectations(_ name: String) throws -> [String: Any] {
        let entry = try GGUFFixtures.expected(name)
        return try XCTUnwrap(entry["tokenizer"] as? [String: Any] ?? entry)
    }

    func testIdsAndDecodingMatchTransformers() throws {
        for name in GGUFFixtures.models + ["llama_sentencepiece_tokenizer"] {
            let tokenizer = try Tokenizer(gguf: GGUFFixtures.url(name))
            let expected = try tokenizerExpectations(name)
            let corpus = try XCTUnwrap(expected["corpus"] as? [String])
            let ids = try XCTUnwrap(expected["ids"] as? [[Int]])
            let withSpecial = try XCTUnwrap(expected["with_special"] as? [[Int]])
            let decoded = try XCTUnwrap(expected["decoded"] as? [String])
            for (index, text) in corpus.enumerated() {
                XCTAssertEqual(tokenizer.encode(text), ids[index], "\(name): \(text.debugDescription)")
                XCTAssertEqual(tokenizer.encode(text, addSpecialTokens: true), withSpecial[index], "\(name): \(text.debugDescription)")
                XCTAssertEqual(tokenizer.decode(withSpecial[index]), decoded[index], name)
            }
        }
    }

    func testChatTemplateRendersAsTransformers() throws {
        for name in GGUFFixtures.models {
            let tokenizer = try Tokenizer(gguf: GGUFFixtures.url(name))
            let expected = try tokenizerExpectations(name)
            let conversation = try GGUFFixtures.messages(expected["conversation"])
            let rendered = try tokenizer.applyChatTemplate(messages: conversation, addGenerationPrompt: true).text
            XCTAssertEqual(rendered, expected["rendered"] as? String, name)
        }
    }

    func testSpecialTokensComeFromTheirIds() throws {
        let tokenizer = try Tokenizer(gguf: GGUFFixtures.url("qwen2_f16"))
        XCTAssertEqual(tokenizer.config.eosToken, "<|im_end|>")
        XCTAssertEqual(tokenizer.config.bosToken, "<|endoftext|>")
        XCTAssertEqual(tokenizer.config.addBOSToken, false)
        XCTAssertTrue(tokenizer.isSpecial(try XCTUnwrap(tokenizer.id(of: "<|im_start|>"))))
    }

    func testSmolLMPreTokenizerSplitsDigitsAsLlamaCpp() throws {
        let tokenizer = try Tokenizer(gguf: GGUFFixtures.url("smollm_tokenizer"))
        let expected = try XCTUnwrap(try GGUFFixtures.expected("smollm_tokenizer") as [String: Any])
        let corpus = try XCTUnwrap(expected["corpus"] as? [String])
        for (text, ids) in zip(corpus, try XCTUnwrap(expected["ids"] as? [[Int]])) {
            XCTAssertEqual(tokenizer.encode(text), ids, text.debugDescription)
        }
    }

    func testRejectsTokenizersItCannotRead() throws {
        for (from, to, message) in [("smollm", "smolxx", "pre-tokenizer 'smolxx'"), ("gpt2", "bert", "'bert'")] {
            let url = try GGUFFixtures.patched("smollm_tokenizer", from, to, self)
            XCTAssertThrowsError(try Tokenizer(gguf: url)) { error in
                XCTAssertTrue("\(error)".contains(message) && "\(error)".contains("bad.gguf"), "\(error)")
            }
        }
    }
}
