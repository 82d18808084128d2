import Foundation
import XCTest
@testable import FledgeRL

/// Bad SFT data gives errors that name the file, the line and what to fix.
final class SFTDataErrorTests: TemporaryDirectoryTestCase {
    func testRowWithoutTheExpectedColumnsNamesLineAndColumns() throws {
        let file = try writeLines([#"{"text": "fine"}"#, "", #"{"question": "q", "answer": "a"}"#], to: "data.jsonl")
        try assertError(file, contains: ["data.jsonl:3:", "'text'", "'prompt' and 'completion'", "'messages'",
                                         "found columns: 'question', 'answer'"])
    }

    func testEmptyDatasetAndMissingFile() throws {
        let empty = try writeLines(["", "  "], to: "empty.jsonl")
        try assertError(empty, contains: ["empty.jsonl: the dataset is empty"])
        try assertError(directory.appendingPathComponent("absent.jsonl"), contains: ["absent.jsonl: no such file"])
    }

    func testInvalidJSONAndNonObjectRows() throws {
        try assertError(try writeLines([#"{"text": "a"}"#, #"{"text": "b""#], to: "broken.jsonl"),
                        contains: ["broken.jsonl:2:", "not valid JSON"])
        try assertError(try writeLines([#"["text"]"#], to: "list.jsonl"), contains: ["list.jsonl:1:", "found an array"])
    }

    func testMixedRowShapesAndWrongTypes() throws {
        try assertError(try writeLines([#"{"prompt": "p", "completion": "c"}"#, #"{"text": "t"}"#], to: "mixed.jsonl"),
                        contains: ["mixed.jsonl:2:", "a text row, but line 1 is a prompt/completion row"])
        try assertError(try writeLines([#"{"prompt": "p", "completion": [{"role": "assistant", "content": "c"}]}"#], to: "types.jsonl"),
                        contains: ["types.jsonl:1:", "'prompt' is a string and 'completion' is an array"])
        try assertError(try writeLines([#"{"messages": [{"content": "no role"}]}"#], to: "roles.jsonl"),
                        contains: ["roles.jsonl:1:", "messages[0] is not a message"])
        try assertError(try writeLines([#"{"text": 3}"#], to: "number.jsonl"), contains: ["number.jsonl:1:", "'text' is an integer"])
    }

    func testSettingsThatCannotApply() throws {
        let text = try writeLines([#"{"text": "t"}"#], to: "text.jsonl")
        var config = SFTConfig()
        config.completionOnlyLoss = true
        try assertError(text, config: config, contains: ["completion_only_loss is true", "text rows"])
        config = SFTConfig()
        config.maxLength = 2
        let long = try writeLines([#"{"prompt": "a long prompt", "completion": " answer"}"#], to: "long.jsonl")
        try assertError(long, config: config, contains: ["every example lost its trained tokens", "max_length 2"])
    }

    func testAssistantOnlyLossNeedsConversationsAndGenerationMarks() throws {
        var config = SFTConfig()
        config.assistantOnlyLoss = true
        try assertError(try writeLines([#"{"prompt": "p", "completion": "c"}"#], to: "strings.jsonl"), config: config,
                        contains: ["assistant_only_loss is true", "prompt/completion rows"])
        let chat = try writeLines([#"{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}"#],
                                  to: "chat.jsonl")
        var tokenizerConfig = try SFTFixtures.tokenizer().config
        tokenizerConfig.chatTemplates = ["default": "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"]
        let plain = try Tokenizer(json: [UInt8](Data(contentsOf: SFTFixtures.modelDirectory.appendingPathComponent("tokenizer.json"))),
                                  path: "tokenizer.json", config: tokenizerConfig)
        XCTAssertThrowsError(try SFTDataset(file: chat, tokenizer: plain, config: config)) { error in
            XCTAssert("\(error)".contains("chat.jsonl:1:"), "\(error)")
            XCTAssert("\(error)".contains("{% generation %}"), "\(error)")
        }
    }

    func testDatasetLocations() throws {
        var run = RunArguments()
        XCTAssertThrowsError(try run.trainingSplit()) { error in
            XCTAssert("\(error)".contains("dataset_name: is not set"), "\(error)")
        }
        run.datasetName = directory.path
        XCTAssertThrowsError(try run.trainingSplit()) { error in
            XCTAssert("\(error)".contains("the folder holds no data files"), "\(error)")
        }
        run.datasetName = directory.path + "/nothing"
        XCTAssertThrowsError(try run.trainingSplit()) { error in
            XCTAssert("\(error)".contains("no such file or folder"), "\(error)")
        }
        let train = try writeLines([#"{"text": "t"}"#], to: "train.jsonl")
        run.datasetName = directory.path
        XCTAssertEqual(try run.trainingSplit().files, [train])
        XCTAssertNil(try run.evaluationSplit())
        let test = try writeLines([#"{"text": "t"}"#], to: "test.jsonl")
        XCTAssertEqual(try run.evaluationSplit()?.files, [test])
        run.datasetName = train.path
        XCTAssertEqual(try run.trainingSplit().files, [train])
        XCTAssertNil(try run.evaluationSplit())
    }

    /// A row whose bytes are not UTF-8 is refused naming the file, line and byte, as `fledge score`
    /// and `fledge tokenize` refuse such files, instead of training on replacement characters.
    func testTextThatIsNotUTF8IsRefused() throws {
        let file = directory.appendingPathComponent("latin1.jsonl")
        try Data(#"{"prompt": "a", "completion": "b"}"#.utf8 + [10] + #"{"prompt": "caf"#.utf8 + [0xE9] + #"", "completion": "b"}"#.utf8)
            .write(to: file)
        try assertError(file, contains: ["latin1.jsonl:2: byte 16: not UTF-8 text (byte 0xE9)"])
    }

    /// A config built in code, which no resolver has checked, is held to the fields' ranges: a
    /// negative max_length is an error naming the field, not a trap in truncation.
    func testAConfigBuiltInCodeIsRangeChecked() throws {
        let file = try writeLines([#"{"prompt": "a", "completion": "b"}"#], to: "rows.jsonl")
        var config = SFTConfig()
        config.maxLength = -1
        try assertError(file, config: config, contains: ["max_length = -1"])
    }

    private func assertError(_ file: URL, config: SFTConfig = SFTConfig(), contains pieces: [String],
                             line: UInt = #line) throws {
        XCTAssertThrowsError(try SFTDataset(file: file, tokenizer: try SFTFixtures.tokenizer(), config: config),
                             line: line) { error in
            let text = "\(error)"
            for piece in pieces { XCTAssert(text.contains(piece), "'\(piece)' not in: \(text)", line: line) }
        }
    }
}
