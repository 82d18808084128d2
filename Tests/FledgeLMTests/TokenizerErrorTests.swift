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

    private func tokenizerJSON(vocab: String, added: String = "[]") -> String {
        #"{"added_tokens": \#(added), "model": {"type": "BPE", "vocab": \#(vocab), "merges": []}}"#
    }

    func testTwoVocabularyTokensWithTheSameIDAreAnError() {
        let message = loadError(tokenizerJSON(vocab: #"{"a": 0, "2": 4, "5": 4}"#))
        XCTAssertTrue(message.contains("field 'model.vocab' gives id 4 to both '2' and '5'"), message)
    }

    func testAnAddedTokenMayNotTakeAnotherTokensID() {
        let vocab = #"{"a": 0, "b": 1}"#
        let taken = loadError(tokenizerJSON(vocab: vocab, added: #"[{"id": 1, "content": "<s>"}]"#))
        XCTAssertTrue(taken.contains("field 'added_tokens[0]' gives id 1 to '<s>', but that id belongs to 'b'"), taken)
        let twice = loadError(tokenizerJSON(vocab: vocab, added: #"[{"id": 2, "content": "<s>"}, {"id": 2, "content": "</s>"}]"#))
        XCTAssertTrue(twice.contains("field 'added_tokens[1]' gives id 2 to '</s>', but that id belongs to '<s>'"), twice)
        let moved = loadError(tokenizerJSON(vocab: vocab, added: #"[{"id": 5, "content": "a"}]"#))
        XCTAssertTrue(moved.contains("field 'added_tokens[0]' gives 'a' id 5, but it already has id 0"), moved)
    }

    func testAnAddedTokenMayRepeatAVocabularyEntryWithTheSameID() throws {
        let json = tokenizerJSON(vocab: #"{"a": 0, "<s>": 1}"#,
                                 added: #"[{"id": 1, "content": "<s>", "special": true}, {"id": 1, "content": "<s>"}]"#)
        let tokenizer = try Tokenizer(json: Array(json.utf8), path: "tokenizer.json")
        XCTAssertEqual(tokenizer.encode("<s>a"), [1, 0])
        XCTAssertEqual(tokenizer.decode([1, 0]), "<s> a")
    }

    func testIDsOutsideTheValidRangeAreAnError() {
        let negative = loadError(tokenizerJSON(vocab: #"{"a": 0}"#, added: #"[{"id": -1, "content": "<s>"}]"#))
        XCTAssertTrue(negative.contains("field 'added_tokens[0].id' is -1; ids must be at least 0 and below 16777216"), negative)
        let huge = loadError(tokenizerJSON(vocab: #"{"a": 2147483000}"#))
        XCTAssertTrue(huge.contains("field 'model.vocab' maps 'a' to 2147483000; ids must be at least 0"), huge)
    }

    func testPostProcessorIDsMustBeTokens() {
        let template = #"{"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}], "special_tokens": {"<s>": {"id": "<s>", "ids": [1200], "tokens": ["<s>"]}}}"#
        let message = loadError(#"{"post_processor": \#(template), "model": {"type": "BPE", "vocab": {"a": 0, "<s>": 1}, "merges": []}}"#)
        XCTAssertTrue(message.contains("field 'post_processor.special_tokens.<s>.ids[0]' is 1200, which is the id of no token"), message)
        let bert = loadError(#"{"post_processor": {"type": "BertProcessing", "cls": ["<s>", 1], "sep": ["</s>", 7]}, "model": {"type": "BPE", "vocab": {"a": 0, "<s>": 1}, "merges": []}}"#)
        XCTAssertTrue(bert.contains("field 'post_processor.sep[1]' is 7, which is the id of no token"), bert)
    }

    func testBadTokenizerConfigIsNamed() {
        XCTAssertThrowsError(try TokenizerConfig(json: Array(#"{"chat_template": 3}"#.utf8), path: "tokenizer_config.json")) { error in
            XCTAssertTrue("\(error)".contains("tokenizer_config.json: field 'chat_template' must be a string or a list"), "\(error)")
        }
    }
}
