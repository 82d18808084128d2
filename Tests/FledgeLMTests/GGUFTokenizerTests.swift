import Foundation
import XCTest
import FledgeTensor
@testable import FledgeLM

/// Tokenizers read from the tiny GGUF fixtures give the ids, text and chat rendering transformers'
/// GGUF tokenizer gives for the same files, over a corpus of code, Unicode, numbers, whitespace and
/// special tokens; the `smollm` pre-tokenizer splits digits as llama.cpp does.
final class GGUFTokenizerTests: XCTestCase {
    private func tokenizerExpectations(_ name: String) throws -> [String: Any] {
        try XCTUnwrap(try GGUFModelTests.expected(name)["tokenizer"] as? [String: Any])
    }

    func testIdsAndDecodingMatchTransformers() throws {
        for name in GGUFModelTests.names {
            let tokenizer = try Tokenizer(gguf: GGUFModelTests.url(name))
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
        for name in GGUFModelTests.names {
            let tokenizer = try Tokenizer(gguf: GGUFModelTests.url(name))
            let expected = try tokenizerExpectations(name)
            let conversation = try XCTUnwrap(expected["conversation"] as? [[String: String]]).map { message in
                JSONValue.object(JSONObject([("role", .string(message["role"]!)), ("content", .string(message["content"]!))]))
            }
            let rendered = try tokenizer.applyChatTemplate(messages: conversation, addGenerationPrompt: true).text
            XCTAssertEqual(rendered, expected["rendered"] as? String, name)
        }
    }

    func testSpecialTokensComeFromTheirIds() throws {
        let tokenizer = try Tokenizer(gguf: GGUFModelTests.url("qwen2_f16"))
        XCTAssertEqual(tokenizer.config.eosToken, "<|im_end|>")
        XCTAssertEqual(tokenizer.config.bosToken, "<|endoftext|>")
        XCTAssertEqual(tokenizer.config.addBOSToken, false)
        XCTAssertTrue(tokenizer.isSpecial(try XCTUnwrap(tokenizer.id(of: "<|im_start|>"))))
    }

    func testSmolLMPreTokenizerSplitsDigitsAsLlamaCpp() throws {
        let tokenizer = try Tokenizer(gguf: Fixtures.directory.appendingPathComponent("gguf/smollm_tokenizer.gguf"))
        let expected = try XCTUnwrap(try GGUFModelTests.expected("smollm_tokenizer") as [String: Any])
        let corpus = try XCTUnwrap(expected["corpus"] as? [String])
        for (text, ids) in zip(corpus, try XCTUnwrap(expected["ids"] as? [[Int]])) {
            XCTAssertEqual(tokenizer.encode(text), ids, text.debugDescription)
        }
    }

    func testRejectsTokenizersItCannotRead() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-gguf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = try Data(contentsOf: Fixtures.directory.appendingPathComponent("gguf/smollm_tokenizer.gguf"))
        // Same-length replacements of metadata values in place.
        for (from, to, message) in [("smollm", "smolxx", "pre-tokenizer 'smolxx'"), ("gpt2", "bert", "'bert'")] {
            var bytes = [UInt8](source)
            let needle = Array(from.utf8)
            let start = try XCTUnwrap((0...(bytes.count - needle.count)).first { bytes[$0..<$0 + needle.count].elementsEqual(needle) })
            bytes.replaceSubrange(start..<start + needle.count, with: Array(to.utf8))
            let url = directory.appendingPathComponent("bad.gguf")
            try Data(bytes).write(to: url)
            XCTAssertThrowsError(try Tokenizer(gguf: url)) { error in
                XCTAssertTrue("\(error)".contains(message) && "\(error)".contains("bad.gguf"), "\(error)")
            }
        }
    }
}
