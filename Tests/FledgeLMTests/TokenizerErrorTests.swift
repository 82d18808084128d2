import Foundation
import XCTest
@testable import FledgeLM

/// Bad tokenizer files fail with errors that name the file and the field at fault.
final class TokenizerErrorTests: XCTestCase {
    private func loadError(_ json: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try Tokenizer(json: Array(json.utf8), path: "/models/x/tokenizer.json")
            XCTFail("expected an error", file: file, line: line)
            return ""
        } catch {
            XCTAssertTrue(error.description.contains("/models/x/tokenizer.json"), error.description, file: file, line: line)
            return error.description
        }
    }

    func testMissingFileNamesThePath() {
        XCTAssertThrowsError(try Tokenizer(directory: "/nonexistent/model")) { error in
            XCTAssertEqual("\(error)", "cannot read /nonexistent/model/tokenizer.json: no such file")
        }
    }

    func testGarbledJSONNamesLineAndColumn() {
        XCTAssertEqual(loadError("{\n  \"model\": {\"type\": \"BPE\",, }\n}"),
                       "/models/x/tokenizer.json is not valid JSON: expected a string key at line 2, column 27")
    }

    func testWrongFieldsAreNamed() {
        XCTAssertTrue(loadError(#"{"model": {"type": "BPE", "vocab": [1]}}"#).contains("field 'model.vocab' must be an object, found an array"))
        XCTAssertTrue(loadError(#"{"added_tokens": []}"#).contains("field 'model.type' is missing"))
        XCTAssertTrue(loadError(#"{"model": {"type": "WordPiece", "vocab": {}}}"#).contains("model 'WordPiece'"))
        XCTAssertTrue(loadError(#"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a c"]}}"#)
            .contains("field 'model.merges[0]' merges 'c', which is not in model.vocab"))
        XCTAssertTrue(loadError(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [["a", "a"]]}}"#)
            .contains("makes 'aa', which is not in model.vocab"))
        XCTAssertTrue(loadError(#"{"model": {"type": "BPE", "vocab": {"a": "zero"}}}"#).contains("'a' maps to a string"))
        XCTAssertTrue(loadError(#"{"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "("}, "behavior": "Isolated"}, "model": {"type": "BPE", "vocab": {}}}"#)
            .contains("field 'pre_tokenizer.pattern.Regex'"))
        XCTAssertTrue(loadError(#"{"normalizer": {"type": "Precompiled"}, "model": {"type": "BPE", "vocab": {}}}"#)
            .contains("field 'normalizer.type': normalizer 'Precompiled' is not supported"))
        XCTAssertTrue(loadError(#"{"added_tokens": [{"content": "<s>"}], "model": {"type": "BPE", "vocab": {}}}"#)
            .contains("field 'added_tokens[0].id' is missing"))
    }

    func testBadTokenizerConfigIsNamed() {
        XCTAssertThrowsError(try TokenizerConfig(json: Array(#"{"chat_template": 3}"#.utf8), path: "tokenizer_config.json")) { error in
            XCTAssertTrue("\(error)".contains("tokenizer_config.json: field 'chat_template' must be a string or a list"), "\(error)")
        }
    }
}
