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

    func testPythonsNonFiniteNumbersAreReadOnlyWhenAllowed() throws {
        let text = "[NaN, Infinity, -Infinity, 1]"
        assertRejects(text, mentioning: ["invalid value", "column 2"])
        guard case .array(let values) = try JSONParser.parse(text, allowingNonFiniteNumbers: true),
              case .double(let nan) = values[0] else { return XCTFail("expected an array starting with a double") }
        XCTAssertTrue(nan.isNaN)
        XCTAssertEqual(Array(values.dropFirst()), [.double(.infinity), .double(-.infinity), .int(1)])
        XCTAssertThrowsError(try JSONParser.parse("[-NaN]", allowingNonFiniteNumbers: true))
    }

    func testValuesWrittenAsSwiftLiteralsAreTheParsedOnes() throws {
        let literal: JSONValue = ["name": "a", "size": 2, "scale": 0.5, "tied": true, "pad": nil, "ids": [1, 2]]
        XCTAssertEqual(literal, try JSONParser.parse(#"{"name": "a", "size": 2, "scale": 0.5, "tied": true, "pad": null, "ids": [1, 2]}"#))
        let object: JSONObject = ["b": 1, "a": 2]
        XCTAssertEqual(object.keys, ["b", "a"], "a literal keeps the order written")
    }

    func testNestingDeeperThanTheLimitIsAnErrorNotAStackOverflow() {
        let depth = 100_000
        assertRejects(String(repeating: "[", count: depth) + String(repeating: "]", count: depth),
                      mentioning: ["nested more than \(JSONParser.maximumDepth) deep"])
    }
}
