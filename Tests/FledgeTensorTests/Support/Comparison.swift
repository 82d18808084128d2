import XCTest
@testable import FledgeTensor

/// Max abs and max relative error between a float32 result and a reference, where relative
/// error is |actual − expected| / (|expected| + mean |expected|) so that near-zero elements
/// are judged against the tensor's scale.
struct ErrorReport: CustomStringConvertible {
    let maxAbs: Double
    let maxRel: Double

    init(_ actual: [Float], _ expected: [Double]) {
        precondition(actual.count == expected.count)
        let scale = expected.isEmpty ? 1 : expected.reduce(0) { $0 + Swift.abs($1) } / Double(expected.count)
        var maxAbs = 0.0, maxRel = 0.0
        for (a, e) in zip(actual, expected) {
            let diff = Swift.abs(Double(a) - e)
            guard diff.isFinite || (Double(a) == e) else { maxAbs = .infinity; maxRel = .infinity; continue }
            maxAbs = Swift.max(maxAbs, diff)
            maxRel = Swift.max(maxRel, diff / (Swift.abs(e) + scale + 1e-30))
        }
        self.maxAbs = maxAbs
        self.maxRel = maxRel
    }

    var description: String { String(format: "max abs %.2e, max rel %.2e", maxAbs, maxRel) }
}

/// Asserts that `actual` matches `expected` (same shape, max relative error ≤ `tolerance`)
/// and prints the errors so that the test log shows how close every check is.
func assertClose(
    _ actual: Tensor, _ expected: DTensor, tolerance: Double, _ label: String,
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.shape, expected.shape, "\(label): shape", file: file, line: line)
    guard actual.shape == expected.shape else { return }
    let report = ErrorReport(actual.toArray(), expected.values)
    print("  \(label): \(report)")
    XCTAssertLessThanOrEqual(report.maxRel, tolerance, "\(label): \(report) exceeds \(tolerance)", file: file, line: line)
}
