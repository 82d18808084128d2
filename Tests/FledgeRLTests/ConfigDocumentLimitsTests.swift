import XCTest
@testable import FledgeRL

/// Config files that describe trees too large or too deep to build are refused with an error
/// naming the file, the line and the limit, before they are built.
final class ConfigDocumentLimitsTests: XCTestCase {
    private func assertRefused(_ text: String, mentioning parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        do {
            let document = try ConfigDocument(yaml: text, source: "bomb.yaml")
            XCTFail("accepted \(document.entries.count) entries", file: file, line: line)
        } catch {
            for part in ["bomb.yaml"] + parts {
                XCTAssertTrue(error.description.contains(part), "'\(error)' does not mention '\(part)'", file: file, line: line)
            }
        }
    }

    /// Nine anchors, each a list of nine aliases of the one before: 9⁹ values once expanded.
    private var aliasBomb: String {
        var lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
        for level in 1...9 {
            let aliases = Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ")
            lines.append("a\(level): &a\(level) [\(aliases)]")
        }
        return lines.joined(separator: "\n")
    }

    func testAnAliasBombIsRefusedNamingTheLineAndTheLimit() {
        assertRefused(aliasBomb, mentioning: ["line 6", "more than 100000 values"])
    }

    func testHundredThousandNestedListsAreRefusedNotAStackOverflow() {
        let depth = 100_000
        let text = "learning_rate: " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        assertRefused(text, mentioning: ["line 1", "more than 64 levels"])
    }

    func testDeepJSONAndBlockNestingAreRefused() {
        let json = "{\"a\": " + String(repeating: "{\"b\": ", count: 80) + "1" + String(repeating: "}", count: 80) + "}"
        assertRefused(json, mentioning: ["more than 64 levels"])
        let block = (0..<70).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n") + " 1"
        assertRefused(block, mentioning: ["line 65", "more than 64 levels"])
    }

    func testAnAliasCountsAsDeepAsTheValueItRepeats() {
        let deep = String(repeating: "[", count: 40) + "1" + String(repeating: "]", count: 40)
        let text = "a: &deep \(deep)\nb: " + String(repeating: "[", count: 30) + "*deep" + String(repeating: "]", count: 30)
        assertRefused(text, mentioning: ["line 2", "more than 64 levels"])
    }

    func testOverridesAreLimitedToo() {
        XCTAssertThrowsError(try ConfigDocument(overrides: ["x=" + String(repeating: "[", count: 100)])) { error in
            XCTAssertTrue("\(error)".contains("--set x=[[[") && "\(error)".contains("more than 64 levels"), "\(error)")
        }
    }

    func testSmallAliasesAndDeepButReasonableNestingAreAccepted() throws {
        let document = try ConfigDocument(yaml: "weights: &w [1, 2.5]\nreward_weights: *w\nnested: \(String(repeating: "[", count: 63))1\(String(repeating: "]", count: 63))",
                                          source: "ok.yaml")
        XCTAssertEqual(document.entries.map(\.key), ["weights", "reward_weights", "nested"])
        XCTAssertEqual(document.entries[1].value, .list([.int(1), .double(2.5)]))
    }
}
