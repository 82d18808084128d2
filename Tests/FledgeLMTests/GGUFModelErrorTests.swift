import Foundation
import XCTest
import FledgeTensor
@testable import FledgeLM

/// GGUF models Fledge cannot load fail with an error naming the file and the metadata key or
/// tensor at fault (each case a fixture with bytes replaced in place).
final class GGUFModelErrorTests: XCTestCase {
    private func patched(_ from: String, _ to: String, patch: ((inout [UInt8], Int) -> Void)? = nil) throws -> URL {
        try GGUFFixtures.patched("llama_f32", from, to, self, patch: patch)
    }

    private func assertLoadFails(_ url: URL, mentioning parts: [String], line: UInt = #line) {
        XCTAssertThrowsError(try LanguageModel(directory: url), line: line) { error in
            for part in parts + ["bad.gguf"] {
                XCTAssertTrue("\(error)".contains(part), "'\(error)' does not mention '\(part)'", line: line)
            }
        }
    }

    func testUnsupportedArchitecture() throws {
        assertLoadFails(try patched("llama", "gemma"), mentioning: ["general.architecture", "'gemma'",
                        "'llama', 'qwen2', 'qwen3', 'phi3', 'gemma2', 'gemma3', 'olmo2', 'smollm3'"])
    }

    func testUnknownTensor() throws {
        assertLoadFails(try patched("output_norm.weight", "output_xorm.weight"), mentioning: ["'output_xorm.weight'", "does not know"])
    }

    func testMissingAndMistypedMetadata() throws {
        assertLoadFails(try patched("llama.block_count", "llama.block_xount"), mentioning: ["'llama.block_count' is missing"])
        // The value type code after the key: uint32 (4) becomes float32 (6).
        assertLoadFails(try patched("llama.block_count", "llama.block_count") { bytes, end in bytes[end] = 6 },
                        mentioning: ["'llama.block_count' must be an integer", "float32"])
    }

    func testMissingTensor() throws {
        assertLoadFails(try patched("blk.1.ffn_up.weight", "blk.9.ffn_up.weight"),
                        mentioning: ["model.layers.1.mlp.up_proj.weight", "model.layers.9.mlp.up_proj.weight"])
    }

    func testUnpermutingNeedsWholeHeads() throws {
        XCTAssertThrowsError(try Checkpoint.unpermutedRowOrder(rows: 6, heads: 2, file: "f.gguf", tensor: "blk.0.attn_q.weight")) { error in
            XCTAssertTrue("\(error)".contains("blk.0.attn_q.weight") && "\(error)".contains("6 rows"), "\(error)")
        }
        // One head of four rows: GGUF rows 0, 1, 2, 3 are Hugging Face rows 0, 2, 1, 3; two heads repeat it.
        XCTAssertEqual(try Checkpoint.unpermutedRowOrder(rows: 4, heads: 1, file: "f.gguf", tensor: "q"), [0, 2, 1, 3])
        XCTAssertEqual(try Checkpoint.unpermutedRowOrder(rows: 8, heads: 2, file: "f.gguf", tensor: "q"), [0, 2, 1, 3, 4, 6, 5, 7])
    }
}
