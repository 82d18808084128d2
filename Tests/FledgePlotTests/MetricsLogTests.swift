import XCTest
@testable import FledgePlot

final class MetricsLogTests: XCTestCase {
    func testKeepsFiniteNumbersAndSkipsEverythingElse() throws {
        let text = """
            {"step": 1, "loss": 0.5, "rewards/correct/mean": 0.25, "note": "warmup", "done": false, "kl": null, "ids": [1, 2]}

            {"step": 2, "loss": NaN, "grad_norm": Infinity, "learning_rate": 5e-06, "extra": {"a": 1}}
            """
        let records = try MetricsLog.parse(text, source: "run/metrics.jsonl")
        XCTAssertEqual(records, [
            MetricRecord(["step": 1, "loss": 0.5, "rewards/correct/mean": 0.25]),
            MetricRecord(["step": 2, "learning_rate": 5e-6]),
        ])
    }

    func testMalformedLineIsNamedWithItsNumber() {
        let text = "{\"step\": 1}\n\n{\"step\": 2,\n{\"step\": 3}\n"
        XCTAssertThrowsError(try MetricsLog.parse(text, source: "run/metrics.jsonl")) { error in
            XCTAssertEqual(error as? MetricsLogError, .malformedLine(path: "run/metrics.jsonl", line: 3, text: "{\"step\": 2,"))
            XCTAssertTrue("\(error)".hasPrefix("run/metrics.jsonl:3: not a JSON object"), "\(error)")
        }
        XCTAssertThrowsError(try MetricsLog.parse("[1, 2]", source: "m.jsonl")) { error in
            XCTAssertEqual(error as? MetricsLogError, .malformedLine(path: "m.jsonl", line: 1, text: "[1, 2]"))
        }
    }

    func testMissingFileIsNamed() {
        XCTAssertThrowsError(try MetricsLog.read(URL(fileURLWithPath: "/nonexistent/metrics.jsonl"))) { error in
            XCTAssertTrue("\(error)".hasPrefix("/nonexistent/metrics.jsonl: cannot read"), "\(error)")
        }
    }
}
