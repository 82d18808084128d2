import Foundation
import XCTest
@testable import FledgeLM

/// Hostile chat templates end with a ``TemplateError`` that names the limit and the line and column
/// at fault, instead of overflowing the stack, trapping, exhausting memory or hanging. Each renders
/// on a thread with a 512 KiB stack, so the limits must hold even for a debug build's large frames.
final class ChatTemplateLimitTests: XCTestCase {
    func testRecursiveMacroStopsAtTheRenderDepthLimit() {
        let source = """
        {% macro countdown(n) %}
        {{ countdown(n - 1) }}
        {% endmacro %}
        {{ countdown(10) }}
        """
        assertLimit(source, .renderDepth, at: (line: 2, column: 13))
    }

    func testFiveThousandNestedParenthesesStopAtTheNestingLimit() {
        let source = "{{ " + String(repeating: "(", count: 5_000) + "1" + String(repeating: ")", count: 5_000) + " }}"
        // The 48th parenthesis opens the 49th level (its contents are one more).
        assertLimit(source, .nestingDepth, at: (line: 1, column: 3 + 48))
    }

    func testFiftyThousandNestedIfsStopAtTheNestingLimit() {
        let source = String(repeating: "{% if true %}\n", count: 50_000) + "x\n" + String(repeating: "{% endif %}\n", count: 50_000)
        assertLimit(source, .nestingDepth, at: (line: 48, column: 4))
    }

    func testLongOperatorChainStopsAtTheNestingLimit() {
        // `1 + 1 + ...` is a tree one level deeper per `+`: rendering and freeing it would recurse 100,000 deep.
        let source = "{{ 1" + String(repeating: " + 1", count: 100_000) + " }}"
        assertLimit(source, .nestingDepth, at: (line: 1, column: 6 + 4 * 47))
    }

    func testRangeOfATrillionItemsIsBlocked() {
        assertLimit("{% for i in range(10**12) %}{{ i }}{% endfor %}", .rangeLength, at: (line: 1, column: 18)) { message in
            XCTAssertTrue(message.contains("MAX_RANGE (100000)"), message)
        }
    }

    func testRangeIsCappedAtAHundredThousandItems() throws {
        let template = try ChatTemplate("{{ range(100000) | length }} {{ range(0, 200000, 2) | last }} {{ range(5, -99995, -1) | length }}")
        XCTAssertEqual(try template.render(messages: []), "100000 199998 100000")
        assertLimit("{{ range(100001) | length }}", .rangeLength, at: (line: 1, column: 9))
        assertLimit("{{ range(-1, 100000) | length }}", .rangeLength, at: (line: 1, column: 9))
        assertLimit("{{ range(-9223372036854775807, 9223372036854775807, 3) }}", .rangeLength, at: (line: 1, column: 9))
    }

    func testNestedLoopsOfAHundredThousandStopAtTheWorkLimit() {
        let source = """
        {% for i in range(100000) %}
        {% for j in range(100000) %}{% endfor %}
        {% endfor %}
        """
        assertLimit(source, .steps, at: (line: 2, column: 18))
    }

    func testIteratingAHugeStringStopsAtTheWorkLimitBeforeMakingItsCharacters() {
        // Sixteen million one-character strings would take about a gigabyte.
        assertLimit("{% for c in 'x' * 16000000 %}{% endfor %}", .steps, at: (line: 1, column: 13))
    }

    func testNumbersConvertWithoutTraps() throws {
        let template = try ChatTemplate("{{ '%d' % 9223372036854775807 }} {{ 'abc' | int(5) }} {{ (1e309 - 1e309) | int(7) }} {{ '%.f' % 2.5 }}")
        XCTAssertEqual(try template.render(messages: []), "9223372036854775807 5 7 2")
        assertLimit("{{ '%d' % 1e300 }}", .integerMagnitude, at: (line: 1, column: 9))
        assertLimit("{{ '%.99999999999f' % 1 }}", .textLength, at: (line: 1, column: 21))
    }

    func testIntegerOverflowIsAnErrorNotATrap() {
        assertLimit("{{ 9223372036854775807 + 1 }}", .integerMagnitude, at: (line: 1, column: 24))
        assertLimit("{{ -9223372036854775807 - 2 }}", .integerMagnitude, at: (line: 1, column: 25))
        assertLimit("{{ 4611686018427387904 * 2 }}", .integerMagnitude, at: (line: 1, column: 24))
        assertLimit("{% set m = -9223372036854775807 - 1 %}{{ -m }}", .integerMagnitude, at: (line: 1, column: 42))
        assertLimit("{% set m = -9223372036854775807 - 1 %}{{ m // -1 }}", .integerMagnitude, at: (line: 1, column: 44))
        assertLimit("{% set m = -9223372036854775807 - 1 %}{{ m | abs }}", .integerMagnitude, at: (line: 1, column: 44))
        assertLimit("{{ 1e300 | int }}", .integerMagnitude, at: (line: 1, column: 10))
        assertLimit("{{ 99999999999999999999 }}", .integerMagnitude, at: (line: 1, column: 4))
    }

    func testHugePowerIsAnErrorNotATrap() throws {
        assertLimit("{{ 2 ** 100000000 }}", .integerMagnitude, at: (line: 1, column: 6))
        assertLimit("{{ (-3) ** 41 }}", .integerMagnitude, at: (line: 1, column: 9))
        // Powers that fit are exact (pow on doubles was not), and negative exponents give floats as in Python.
        let template = try ChatTemplate("{{ 3 ** 39 }} {{ (-2) ** 63 }} {{ 2 ** -1 }} {{ 0 ** 0 }}")
        XCTAssertEqual(try template.render(messages: []), "4052555153018976267 -9223372036854775808 0.5 1")
    }

    func testRepeatingAStringPastTheTextLimitIsAnError() {
        assertLimit("{{ 'x' * 10**11 }}", .textLength, at: (line: 1, column: 8))
        assertLimit("{{ 'x' * 9223372036854775807 }}", .textLength, at: (line: 1, column: 8))
        assertLimit("{% set s = 'x' * 10000000 %}{{ s ~ s }}", .textLength, at: (line: 1, column: 34))
        assertLimit("{{ (['x' * 1000000] * 100) | join(',') }}", .textLength, at: (line: 1, column: 28))
        assertLimit("{{ ('x' * 100000).replace('', 'y' * 1000) }}", .textLength, at: (line: 1, column: 18))
    }

    func testPrintingAListOfLongStringsStopsAtTheTextLimit() {
        // A list holds one string a million times at little cost; its text would be a terabyte.
        assertLimit("{{ ['x' * 1000000] * 1000000 }}", .textLength, at: (line: 1, column: 4))
        assertLimit("{{ (['x' * 1000000] * 1000000) | tojson }}", .textLength, at: (line: 1, column: 32))
        assertLimit("{{ [0] * 10**11 }}", .listLength, at: (line: 1, column: 8))
    }

    func testDivisionByZeroIsAnError() {
        let cases = [("{{ 1 // 0 }}", "integer division or modulo by zero", 6), ("{{ 7 % 0 }}", "integer division or modulo by zero", 6),
                     ("{{ 1 / 0 }}", "division by zero", 6), ("{{ 1.5 // 0 }}", "division by zero", 8)]
        for (source, message, column) in cases {
            guard case .failure(let error) = renderedOnSmallStack(source), case .runtime(let text, let position) = error else {
                XCTFail("\(source) should fail with a runtime error"); continue
            }
            XCTAssertEqual(text, message, source)
            XCTAssertEqual(position, SourcePosition(line: 1, column: column), source)
        }
    }

    func testValuesNestedInALoopStopAtTheValueDepthLimit() {
        let source = """
        {% set ns = namespace(x=0) %}
        {% for i in range(100000) %}{% set ns.x = [ns.x] %}{% endfor %}
        {{ ns.x }}
        """
        assertLimit(source, .valueDepth, at: (line: 2, column: 32))
    }

    func testNamespacePrintsAsJinjaPrintsIt() throws {
        XCTAssertEqual(try ChatTemplate("{{ namespace(a=1, b='x') }}").render(messages: []), "<Namespace {'a': 1, 'b': 'x'}>")
    }

    func testNamespaceCannotHoldANamespace() {
        // Namespaces are the only mutable values: one inside another could chain without end or hold itself.
        let source = "{% set ns = namespace() %}{% set ns.me = [ns] %}{{ ns }}"
        XCTAssertThrowsError(try ChatTemplate(source).render(messages: [])) { error in
            guard case TemplateError.unsupported(let construct, let position) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(construct.contains("namespace holding another namespace"), construct)
            XCTAssertEqual(position, SourcePosition(line: 1, column: 30))
        }
    }

    func testRealTemplatesRenderWithinTheLimitsOnA512KiBStack() throws {
        let chat = Fixtures.directory.appendingPathComponent("chat")
        let tokenizer = try Tokenizer(directory: Fixtures.tokenizerDirectory("llama3"))
        guard case .array(let conversations) = try JSONParser.parse([UInt8](try Data(contentsOf: chat.appendingPathComponent("conversations.json")))) else {
            return XCTFail("conversations.json")
        }
        let templates = chat.appendingPathComponent("templates")
        for file in try FileManager.default.contentsOfDirectory(atPath: templates.path).sorted() {
            let source = try String(contentsOf: templates.appendingPathComponent(file), encoding: .utf8)
            for (index, conversation) in conversations.enumerated() {
                guard case .array(let messages)? = conversation["messages"] else { return XCTFail("malformed conversation") }
                let tools: [JSONValue]? = if case .array(let list)? = conversation["tools"] { list } else { nil }
                let outcome = onSmallStack { () throws(TemplateError) in
                    try ChatTemplate(source).render(messages: messages, tools: tools, addGenerationPrompt: true, specialTokens: tokenizer.config.specialTokens)
                }
                // Some conversations make a template raise (as in transformers); none may reach a limit.
                if case .failure(.limitExceeded) = outcome { XCTFail("\(file), conversation \(index): \(outcome)") }
            }
        }
    }

    func testDeepestRenderingOfTheDeepestValueFitsA512KiBStack() {
        // A value as deep as allowed, printed, serialized and compared at the deepest level rendering
        // allows: the limits together must keep a debug build's stack within 512 KiB.
        func template(recursions: Int) -> String {
            """
            {% set ns = namespace(x=0) %}{% for i in range(\(TemplateLimit.valueDepth.value - 2)) %}{% set ns.x = [ns.x] %}{% endfor %}
            {% macro f(n) %}{{ f(n - 1) if n > 0 else (ns.x == [ns.x][0]) ~ (ns.x | tojson | length) ~ ([ns.x] | string | length) }}{% endmacro %}
            {{ f(\(recursions)) }}
            """
        }
        guard let deepest = (1...TemplateLimit.renderDepth.value).last(where: { (try? renderedOnSmallStack(template(recursions: $0)).get()) != nil }) else {
            return XCTFail("the template should render with one recursion")
        }
        XCTAssertGreaterThan(deepest, TemplateLimit.renderDepth.value / 8)
        assertLimit(template(recursions: deepest + 1), .renderDepth, at: (line: 2, column: 21))
    }

    // MARK: Helpers

    /// Asserts that rendering `source` (with no messages) fails with `limit` exceeded at `position`,
    /// and that the error's description names both; `limit` nil asserts that it renders.
    private func assertLimit(_ source: String, _ limit: TemplateLimit?, at position: (line: Int, column: Int) = (0, 0),
                             file: StaticString = #filePath, line: UInt = #line, message check: (String) -> Void = { _ in }) {
        let outcome = renderedOnSmallStack(source)
        let label = source.count > 80 ? String(source.prefix(80)) + "…" : source
        guard let limit else {
            if case .failure(let error) = outcome { XCTFail("\(label): \(error)", file: file, line: line) }
            return
        }
        guard case .failure(let error) = outcome, case .limitExceeded(let exceeded, let message, let at) = error else {
            return XCTFail("\(label): expected the \(limit.name) limit, got \(outcome)", file: file, line: line)
        }
        XCTAssertEqual(exceeded, limit, label, file: file, line: line)
        XCTAssertEqual(at, SourcePosition(line: position.line, column: position.column), "\(label): \(error)", file: file, line: line)
        let description = "\(error)"
        XCTAssertTrue(description.contains("line \(position.line), column \(position.column)") && description.contains("\(limit.value)"),
                      description, file: file, line: line)
        check(message)
    }

    /// Parses and renders `source` (with no messages) on a thread whose stack is only 512 KiB.
    private func renderedOnSmallStack(_ source: String) -> Result<String, TemplateError> {
        onSmallStack { () throws(TemplateError) in try ChatTemplate(source).render(messages: []) }
    }

    /// Runs `work` on a thread whose stack is only 512 KiB.
    private func onSmallStack(_ work: @escaping @Sendable () throws(TemplateError) -> String) -> Result<String, TemplateError> {
        final class Outcome: @unchecked Sendable { var value: Result<String, TemplateError>? }
        let outcome = Outcome()
        let finished = DispatchSemaphore(value: 0)
        let thread = Thread {
            outcome.value = Result(catching: work)
            finished.signal()
        }
        thread.stackSize = 512 * 1024
        thread.start()
        finished.wait()
        return outcome.value!
    }
}
