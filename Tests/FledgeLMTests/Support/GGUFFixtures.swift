import Foundation
import XCTest
import FledgeTensor

/// The GGUF fixtures of Fixtures/gguf (made by Scripts/reference/make_gguf_fixtures.py) and what
/// transformers computed with them.
enum GGUFFixtures {
    /// The tiny models, each in its tensor types and with its tokenizer.
    static let models = ["llama_f32", "llama_mixed", "qwen2_f16", "qwen3_bf16", "phi3_mixed", "llama_q8_0_q4_0", "qwen2_q8_0", "phi3_q4_0", "llama_q4_k"]
    /// The models whose linear weights are Q8_0, Q4_0 or Q4_K, which load kept in their blocks.
    static let quantizedModels = ["llama_q8_0_q4_0", "qwen2_q8_0", "phi3_q4_0", "llama_q4_k"]

    static func url(_ name: String) -> URL { Fixtures.directory.appendingPathComponent("gguf/\(name).gguf") }

    /// The entry `name` of expected.json.
    static func expected(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: Fixtures.directory.appendingPathComponent("gguf/expected.json"))
        let all = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try XCTUnwrap(all[name] as? [String: Any])
    }

    /// Fixture `name` with the first occurrence of `from` replaced by `to` (same length, so every
    /// offset stays valid) and `patch` applied at the byte after it, written as bad.gguf in a
    /// directory removed after `test`.
    static func patched(_ name: String, _ from: String, _ to: String, _ test: XCTestCase,
                        patch: ((inout [UInt8], Int) -> Void)? = nil) throws -> URL {
        var bytes = [UInt8](try Data(contentsOf: url(name)))
        let needle = Array(from.utf8)
        let start = try XCTUnwrap((0...(bytes.count - needle.count)).first { bytes[$0..<$0 + needle.count].elementsEqual(needle) })
        bytes.replaceSubrange(start..<start + needle.count, with: Array(to.utf8))
        patch?(&bytes, start + needle.count)
        let file = try temporaryDirectory(test).appendingPathComponent("bad.gguf")
        try Data(bytes).write(to: file)
        return file
    }

    /// The messages of a conversation in expected.json as chat-template input.
    static func messages(_ value: Any?) throws -> [JSONValue] {
        try XCTUnwrap(value as? [[String: String]]).map { message in
            JSONValue.object(JSONObject(message.sorted { $0.key > $1.key }.map { ($0.key, JSONValue.string($0.value)) }))
        }
    }
}
