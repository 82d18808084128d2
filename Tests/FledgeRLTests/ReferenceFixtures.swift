import Foundation
import XCTest
import FledgeTensor

/// A JSON fixture written by `Scripts/reference/make_dpo_ppo_fixtures.py` from TRL's code.
struct ReferenceFixture {
    let object: [String: Any]

    init(_ object: [String: Any]) {
        self.object = object
    }

    /// The cases of `dpo_ppo/NAME.json`, and the file's other fields.
    static func load(_ name: String) throws -> (file: ReferenceFixture, cases: [ReferenceFixture]) {
        let data = try Data(contentsOf: fixtureURL("dpo_ppo/\(name).json"))
        let file = ReferenceFixture(try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any]))
        let cases = try XCTUnwrap(file.object["cases"] as? [[String: Any]]).map(ReferenceFixture.init)
        return (file, cases)
    }

    var name: String { object["name"] as? String ?? "?" }

    func has(_ key: String) -> Bool { object[key] != nil && !(object[key] is NSNull) }

    func double(_ key: String) throws -> Double { try XCTUnwrap(object[key] as? Double, "\(name): \(key)") }

    func doubles(_ key: String) throws -> [Double] { try XCTUnwrap(object[key] as? [Double], "\(name): \(key)") }

    /// Float32 inputs, exact (the script writes float32 values).
    func floats(_ key: String) throws -> [Float] { try doubles(key).map(Float.init) }

    func integers(_ key: String) throws -> [Int] { try XCTUnwrap(object[key] as? [Int], "\(name): \(key)") }

    func strings(_ key: String) throws -> [String] { try XCTUnwrap(object[key] as? [String], "\(name): \(key)") }

    func bool(_ key: String) throws -> Bool { try XCTUnwrap(object[key] as? Bool, "\(name): \(key)") }

    func metrics() throws -> [String: Double] { try XCTUnwrap(object["metrics"] as? [String: Double], "\(name): metrics") }

    func child(_ key: String) throws -> ReferenceFixture {
        ReferenceFixture(try XCTUnwrap(object[key] as? [String: Any], "\(name): \(key)"))
    }
}

/// The largest relative error of `actual` against `expected`, judging each element against
/// |expected| plus the mean |expected| so that elements near zero are judged at the values' scale.
func maxRelativeError(_ actual: [Double], _ expected: [Double]) -> Double {
    guard actual.count == expected.count else { return .infinity }
    let scale = expected.isEmpty ? 1 : expected.reduce(0) { $0 + abs($1) } / Double(expected.count)
    return zip(actual, expected).reduce(0) { worst, pair in
        let (a, e) = pair
        if a == e { return worst }  // also equal infinities
        let error = abs(a - e) / (abs(e) + scale + 1e-30)
        return error.isNaN ? .infinity : max(worst, error)
    }
}

/// Asserts a relative error at most `tolerance`, printing it so the test log shows every margin;
/// returns the error.
@discardableResult
func assertClose(_ actual: [Double], _ expected: [Double], tolerance: Double = 1e-5, _ label: String,
                 file: StaticString = #filePath, line: UInt = #line) -> Double {
    XCTAssertEqual(actual.count, expected.count, "\(label): count", file: file, line: line)
    let error = maxRelativeError(actual, expected)
    print(String(format: "  %@: max rel %.2e", label, error))
    XCTAssertLessThanOrEqual(error, tolerance, "\(label): \(actual) vs \(expected)", file: file, line: line)
    return error
}

func assertClose(_ actual: Tensor, _ expected: [Double], tolerance: Double = 1e-5, _ label: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    assertClose(actual.toArray().map(Double.init), expected, tolerance: tolerance, label, file: file, line: line)
}

/// Asserts that every expected metric is present and close.
func assertMetrics(_ actual: [String: Double], _ expected: [String: Double], tolerance: Double = 1e-5, _ label: String,
                   file: StaticString = #filePath, line: UInt = #line) {
    for (key, value) in expected.sorted(by: { $0.key < $1.key }) {
        guard let got = actual[key] else {
            XCTFail("\(label): missing metric \(key)", file: file, line: line)
            continue
        }
        assertClose([got], [value], tolerance: tolerance, "\(label) \(key)", file: file, line: line)
    }
}
