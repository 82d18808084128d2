import Foundation
import XCTest
@testable import FledgeLM

/// Real model templates (TRL's copies), and small templates that exercise one Jinja feature each,
/// must render exactly as transformers' `apply_chat_template`, and raise where it raises.
final class ChatTemplateTests: XCTestCase {
    private var chatDirectory: URL { Fixtures.directory.appendingPathComponent("chat") }

    func testRealTemplatesMatchTransformers() throws {
        let tokenizer = try Tokenizer(directory: Fixtures.tokenizerDirectory("llama3"))
        let conversationData = try Data(contentsOf: chatDirectory.appendingPathComponent("conversations.json"))
        guard case .array(let conversations) = try JSONParser.parse([UInt8](conversationData)) else { return XCTFail("conversations.json") }
        let cases = try Fixtures.jsonLines(chatDirectory.appendingPathComponent("expected.jsonl"))
        XCTAssertGreaterThanOrEqual(cases.count, 700)
        var templates: [String: ChatTemplate] = [:]
        var failures = 0
        var raising = 0
        for testCase in cases {
            // A case names a real template file, or carries a small template of its own in "source".
            let name = try testCase["template"]?.stringValue ?? XCTUnwrap(testCase["source"]?.stringValue)
            if templates[name] == nil {
                let source = try testCase["source"]?.stringValue
                    ?? String(contentsOf: chatDirectory.appendingPathComponent("templates/\(name).jinja"), encoding: .utf8)
                templates[name] = try ChatTemplate(source)
            }
            guard case .int(let index)? = testCase["conversation"] else { return XCTFail("malformed case") }
            let generationPrompt = testCase["add_generation_prompt"] == .bool(true)
            let variables: JSONObject = if case .object(let object)? = testCase["variables"] { object } else { JSONObject() }
            let conversation = conversations[index]
            guard case .array(let messages)? = conversation["messages"] else { return XCTFail("malformed conversation") }
            let tools: [JSONValue]? = if case .array(let list)? = conversation["tools"] { list } else { nil }
            let label = "\(name) conversation \(index) add_generation_prompt=\(generationPrompt)"
            do {
                let text = try templates[name]!.render(messages: messages, tools: tools, addGenerationPrompt: generationPrompt,
                                                       specialTokens: tokenizer.config.specialTokens, variables: variables)
                if let error = testCase["error"]?.stringValue {
                    failures += 1
                    XCTFail("\(label): transformers raised \(error), Fledge rendered \(text.debugDescription)")
                } else if text != testCase["text"]?.stringValue || !text.utf8.elementsEqual(testCase["text"]!.stringValue!.utf8) {
                    failures += 1
                    XCTFail("\(label): rendered\n\(text.debugDescription)\nexpected\n\(testCase["text"]!.stringValue!.debugDescription)")
                } else if let ids = testCase["ids"]?.intArray, tokenizer.encode(text) != ids {
                    failures += 1
                    XCTFail("\(label): ids differ")
                }
            } catch {
                if testCase["error"] == nil {
                    failures += 1
                    XCTFail("\(label): Fledge raised \(error), transformers rendered")
                } else {
                    raising += 1
                }
            }
        }
        XCTAssertEqual(failures, 0)
        XCTAssertGreaterThan(raising, 0)
    }

    func testWhitespaceControlTrimAndLstripBlocks() throws {
        let source = "{% for x in items %}\n    {%- if x %}\n  [{{ x }}]\n    {% endif %}\n{% endfor %}\nend\n"
        let text = try ChatTemplate(source).render(messages: [], variables: JSONObject([("items", .array([.int(1), .int(0), .int(2)]))]))
        XCTAssertEqual(text, "  [1]\n  [2]\nend")
    }

    func testExpressionsFiltersAndMethods() throws {
        let source = """
        {{ "a,b,,c".split(",") }} {{ [3, 1, 2] | sort | join("-") }} {{ "  x  " | trim }}|{{ "Hi"[::-1] }} \
        {{ 7 // 2 }} {{ -7 % 3 }} {{ 1 / 2 }} {{ {"k": [1, 2.0, none, true]} | tojson }} {{ "abc".startswith(("x", "a")) }} \
        {{ users | selectattr("admin") | map(attribute="name") | list }} {% set ns = namespace(n=0) %}\
        {% for u in users if u.admin %}{% set ns.n = ns.n + loop.index %}{% endfor %}{{ ns.n }} \
        {{ "x" if missing is defined else "y" }} {{ (1, 2) }} {{ "%s" ~ 5 }} {{ "ÉCOLE".lower() }}
        """
        let users = JSONValue.array([
            .object(JSONObject([("name", .string("ann")), ("admin", .bool(true))])),
            .object(JSONObject([("name", .string("bob")), ("admin", .bool(false))])),
            .object(JSONObject([("name", .string("cy")), ("admin", .bool(true))])),
        ])
        let text = try ChatTemplate(source).render(messages: [], variables: JSONObject([("users", users)]))
        XCTAssertEqual(text, """
        ['a', 'b', '', 'c'] 1-2-3 x|iH 3 2 0.5 {"k": [1, 2.0, null, true]} True ['ann', 'cy'] 3 y (1, 2) %s5 école
        """)
    }

    func testMacrosAndLoopControls() throws {
        let source = "{% macro item(x, sep='; ') %}<{{ x }}>{{ sep }}{% endmacro %}{% for i in range(6) %}{% if i == 4 %}{% break %}{% endif %}{% if i is odd %}{% continue %}{% endif %}{{ item(i) }}{% endfor %}"
        XCTAssertEqual(try ChatTemplate(source).render(messages: []), "<0>; <2>; ")
    }

    func testUnsupportedConstructsNameThemselvesAndTheirPosition() {
        let cases: [(String, String, Int, Int)] = [
            ("Hello\n  {% include 'other.jinja' %}", "'{% include %}' tag", 2, 6),
            ("{{ messages | wordwrap }}", "'wordwrap' filter", 1, 13),
            ("{% if x is prime %}{% endif %}", "'prime' test", 1, 9),
            ("{{ 'a'.format(1) }}", "str method 'format'", 1, 7),
            ("{% for m in messages recursive %}{% endfor %}", "recursive for loops", 1, 22),
        ]
        for (source, construct, line, column) in cases {
            XCTAssertThrowsError(try ChatTemplate(source).render(messages: [.object(JSONObject())])) { error in
                guard case TemplateError.unsupported(let what, let position) = error else { return XCTFail("\(source): \(error)") }
                XCTAssertTrue(what.contains(construct), "\(what) should name \(construct)")
                XCTAssertEqual(position, SourcePosition(line: line, column: column), source)
                XCTAssertTrue("\(error)".contains("line \(line), column \(column)"))
            }
        }
    }

    func testSyntaxErrorsHavePositions() {
        XCTAssertThrowsError(try ChatTemplate("{% if x %}never closed")) { error in
            XCTAssertTrue("\(error)".contains("endif"), "\(error)")
        }
        XCTAssertThrowsError(try ChatTemplate("line\n{{ 1 + }}")) { error in
            guard case TemplateError.syntax(_, let position) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(position.line, 2)
        }
    }

    func testTokenizerConfigChatTemplateAndRaiseException() throws {
        let config = try TokenizerConfig(json: Array(#"{"bos_token": {"content": "<s>"}, "chat_template": [{"name": "default", "template": "{{ bos_token }}{% if messages | length == 0 %}{{ raise_exception('empty') }}{% endif %}{{ messages[0].content }}"}]}"#.utf8), path: "tokenizer_config.json")
        XCTAssertEqual(config.bosToken, "<s>")
        let template = try ChatTemplate(try XCTUnwrap(config.chatTemplates["default"]))
        XCTAssertEqual(try template.render(messages: [.object(JSONObject([("content", .string("hi"))]))], specialTokens: ["bos_token": "<s>"]), "<s>hi")
        XCTAssertThrowsError(try template.render(messages: [])) { error in
            guard case TemplateError.raised(let message) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(message, "empty")
        }
    }
}
