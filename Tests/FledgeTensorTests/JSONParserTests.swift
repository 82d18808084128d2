import XCTest
@testable import FledgeTensor

/// The package's JSON reader refuses what would silently change a file's meaning, and says where.
final class JSONParserTests: XCTestCase {
    private func assertRejects(_ text: String, mentioning parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        do {
            let value = try JSONParser.parse(text)
            XCTFail("\(text) parsed as \(value)", file: file, line: line)
        } catch {
            for part in parts {
                XCTAssertTrue(error.description.contains(part), "'\(error)' does not mention '\(part)'", file: file, line: line)
            }
        }
    }

    func testAKeyGivenTwiceInOneObjectIsAnErrorNamingTheKeyAndItsPlace() {
        assertRejects("{\"a\": 1,\n \"b\": {\"c\": 2, \"c\": 3}}", mentioning: ["\"c\"", "twice", "line 2, column 16"])
        assertRejects("{\"a\": 1, \"a\": 1}", mentioning: ["\"a\"", "twice"])
    }

    func testTheSameKeyInDifferentObjectsAndCanonicallyEquivalentKeysAreAccepted() throws {
        XCTAssertEqual(try JSONParser.parse("[{\"a\": 1}, {\"a\": 2}]"), .array([.object(JSONObject([("a", .int(1))])),
                                                                               .object(JSONObject([("a", .int(2))]))]))
        // "é" and "e" + combining acute are different keys, as in Python.
        guard case .object(let object) = try JSONParser.parse("{\"\u{E9}\": 1, \"e\u{301}\": 2}") else { return XCTFail() }
        XCTAssertEqual(object.count, 2)
    }

    func testNumbersFollowTheJSONGrammar() throws {
        XCTAssertEqual(try JSONParser.parse("[0, -0, 12, -3.5, 1e3, 2E-2, 0.5e+1]"),
                       .array([.int(0), .int(0), .int(12), .double(-3.5), .double(1000), .double(0.02), .double(5)]))
        XCTAssertEqual(try JSONParser.parse("99999999999999999999"), .double(1e20))
        for text in ["01", "+1", ".5", "1.", "1e", "1e+", "-", "--1", "1.2.3", "0x10", "1-2", "- 1"] {
            assertRejects(text, mentioning: ["column"])
        }
    }

    func testNumbersBeyondTheRangeOfADoubleAreAnError() {
        assertRejects("{\"lr\": 1e400}", mentioning: ["1e400", "too large", "column 8"])
        assertRejects("[-1e400]", mentioning: ["too large"])
    }

    func testNestingDeeperThanTheLimitIsAnErrorNotAStackOverflow() {
        let depth = 100_000
        assertRejects(String(repeating: "[", count: depth) + String(repeating: "]", count: depth),
                      mentioning: ["nested more than \(JSONParser.maximumDepth) deep"])
    }
}
