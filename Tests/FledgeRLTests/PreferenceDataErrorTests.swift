import Foundation
import XCTest
@testable import FledgeRL

/// Bad preference data gives errors that name the file, the line and what to fix.
final class PreferenceDataErrorTests: TemporaryDirectoryTestCase {
    func testRowWithMissingColumnsNamesLineAndColumns() throws {
        let file = try writeLines([#"{"prompt": "p", "chosen": " a", "rejected": " b"}"#,
                                   #"{"prompt": "p", "answer": " a"}"#], to: "pairs.jsonl")
        try assertError(file, contains: ["pairs.jsonl:2:", "missing 'chosen', 'rejected'", "found columns: 'prompt', 'answer'"])
    }

    func testMixedShapesAndWrongTypes() throws {
        let chat = #"{"prompt": [{"role": "user", "content": "q"}], "chosen": [{"role": "assistant", "content": "a"}], "rejected": [{"role": "assistant", "content": "b"}]}"#
        try assertError(try writeLines([#"{"prompt": "p", "chosen": " a", "rejected": " b"}"#, chat], to: "mixed.jsonl"),
                        contains: ["mixed.jsonl:2:", "a chat-message row, but line 1 is a text row"])
        try assertError(try writeLines([#"{"prompt": "p", "chosen": [{"role": "assistant", "content": "a"}], "rejected": " b"}"#],
                                       to: "types.jsonl"),
                        contains: ["types.jsonl:1:", "'prompt' is a string, 'chosen' an array and 'rejected' a string"])
        try assertError(try writeLines([#"{"prompt": [{"content": "q"}], "chosen": [], "rejected": []}"#], to: "roles.jsonl"),
                        contains: ["roles.jsonl:1:", "prompt[0] is not a message"])
    }

    func testEveryPromptFillingMaxLengthIsAnError() throws {
        let file = try writeLines([#"{"prompt": "a rather long prompt for four tokens", "chosen": " a", "rejected": " b"}"#],
                                  to: "long.jsonl")
        try assertError(file, maxLength: 4, contains: ["long.jsonl:", "every row's prompt fills max_length (4)"])
    }

    private func assertError(_ file: URL, maxLength: Int = 64, contains parts: [String], line: UInt = #line) throws {
        let encoder = PreferenceEncoder(tokenizer: try SFTFixtures.tokenizer(), maxLength: maxLength, truncationMode: .keepStart)
        XCTAssertThrowsError(try PreferenceDataset(file: file, encoder: encoder), line: line) { error in
            let text = "\(error)"
            for part in parts { XCTAssert(text.contains(part), "'\(part)' not in: \(text)", line: line) }
        }
    }
}
