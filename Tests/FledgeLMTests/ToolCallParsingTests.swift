import Foundation
import XCTest
@testable import FledgeLM

/// Replies with tool calls, well formed and not, must parse into exactly the message TRL's `parse_response` makes
/// of them (fixtures by Scripts/reference/make_tool_fixtures.py), with the tools the prompt was rendered with.
final class ToolCallParsingTests: XCTestCase {
    func testQwenRepliesParseAsTRLParsesThem() throws {
        try checkFixture("qwen", format: .qwen)
    }

    func testLlama3RepliesParseAsTRLParsesThem() throws {
        try checkFixture("llama3", format: .llama3)
    }

    func testFormatsAreRecognisedFromTheirTemplates() throws {
        for (template, expected) in [("qwen2_5", "qwen"), ("qwen3", "qwen"), ("llama3_1", "llama3"), ("llama3_2", "llama3")] {
            XCTAssertEqual(ResponseFormat.detect(chatTemplate: try templateSource(template))?.name, expected, template)
        }
        // Templates that cannot render tool calls have no format.
        for template in ["llama3", "gemma", "phi3"] {
            XCTAssertNil(ResponseFormat.detect(chatTemplate: try templateSource(template)), template)
        }
    }

    /// Replies that are not token sequences of the fixture tokenizer (ids out of range, lone control tokens) still
    /// parse to a message, never a crash.
    func testArbitraryIdsParseToAMessage() throws {
        let tokenizer = try Tokenizer(directory: Fixtures.tokenizerDirectory("qwen2"))
        let parser = ResponseParser(format: .qwen, tokenizer: tokenizer, chatTemplate: try templateSource("qwen2_5"))
        for ids in [[], [1203], [1203, 1203, 1204], [1204, 1202, 1202], [-5, 1 << 40, 1203, 90, 92, 1204], [1201, 1202, 1200]] {
            let message = parser.parse(ids, prefix: [1201], tools: [])
            XCTAssertEqual(message["role"], .string("assistant"))
            XCTAssertNotNil(message["content"]?.stringValue, "\(ids)")
        }
    }

    private func checkFixture(_ name: String, format: ResponseFormat) throws {
        let url = Fixtures.directory.appendingPathComponent("tool_calls/\(name).json")
        let fixture = try JSONParser.parse([UInt8](Data(contentsOf: url)))
        let tokenizer = try Tokenizer(directory: Fixtures.tokenizerDirectory(try XCTUnwrap(fixture["tokenizer"]?.stringValue)))
        let source = try templateSource(try XCTUnwrap(fixture["template"]?.stringValue))
        XCTAssertEqual(ResponseFormat.detect(chatTemplate: source)?.name, format.name)
        guard case .array(let tools)? = fixture["tools"], case .array(let prompt)? = fixture["prompt"],
              case .array(let cases)? = fixture["cases"], let promptIds = fixture["prompt_ids"]?.intArray else {
            return XCTFail("malformed fixture \(url.path)")
        }
        // The tools reach the template's `tools` variable as transformers passes them; the fixed date keeps Llama 3's
        // "Today Date" line from depending on the day the test runs.
        guard case .object(let variables)? = fixture["template_variables"] else { return XCTFail("no template_variables in \(url.path)") }
        let rendered = try ChatTemplate(source).render(messages: prompt, tools: tools, addGenerationPrompt: true,
                                                       specialTokens: tokenizer.config.specialTokens, variables: variables)
        XCTAssertEqual(tokenizer.encode(rendered), promptIds, "prompt ids of the \(name) fixture")

        let parser = ResponseParser(format: format, tokenizer: tokenizer, chatTemplate: source)
        XCTAssertGreaterThan(cases.count, 10)
        for testCase in cases {
            let label = "\(name): \(testCase["name"]?.stringValue ?? "?")"
            guard let ids = testCase["ids"]?.intArray, case .object(let expected)? = testCase["message"] else {
                return XCTFail("malformed case \(label)")
            }
            let message = parser.parse(ids, prefix: promptIds, tools: tools)
            XCTAssertEqual(message, expected, "\(label)\n  Fledge: \(JSONWriter().string(.object(message)))\n"
                + "  TRL:    \(JSONWriter().string(.object(expected)))")
            XCTAssertEqual(message.keys, expected.keys, "\(label): key order")
        }
    }

    private func templateSource(_ name: String) throws -> String {
        try String(contentsOf: Fixtures.directory.appendingPathComponent("chat/templates/\(name).jinja"), encoding: .utf8)
    }
}
