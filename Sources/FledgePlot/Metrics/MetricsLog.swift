import Foundation
import FledgeJSON

/// One logged step of a run: the numeric fields of one line of `metrics.jsonl`.
public struct MetricRecord: Sendable, Equatable {
    /// Numeric values by metric name (`step`, `loss`, `rewards/correct/mean`, …).
    public var values: [String: Double]

    public init(_ values: [String: Double]) {
        self.values = values
    }

    public subscript(_ name: String) -> Double? { values[name] }
}

/// Reading `metrics.jsonl`: one JSON object per line; finite numeric fields are kept; strings,
/// booleans, nulls, arrays, objects, NaN and infinities are skipped; blank lines are ignored.
public enum MetricsLog {
    /// The file name a run directory holds its metrics in.
    public static let fileName = "metrics.jsonl"

    /// The records of a metrics file, in file order.
    public static func read(_ url: URL) throws -> [MetricRecord] {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw MetricsLogError.unreadable(path: url.path, reason: error.localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw MetricsLogError.unreadable(path: url.path, reason: "not UTF-8 text")
        }
        return try parse(text, source: url.path)
    }

    /// The records of metrics text; `source` names it in errors.
    public static func parse(_ text: String, source: String) throws -> [MetricRecord] {
        var records: [MetricRecord] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            // Python's json writes NaN and infinities bare; they are read, then skipped as non-finite.
            guard case .object(let object) = try? JSONParser.parse(trimmed, allowingNonFiniteNumbers: true) else {
                throw MetricsLogError.malformedLine(path: source, line: index + 1, text: String(trimmed.prefix(80)))
            }
            var values: [String: Double] = [:]
            for (key, value) in object.entries {
                switch value {
                case .int(let integer): values[key] = Double(integer)
                case .double(let number) where number.isFinite: values[key] = number
                default: continue
                }
            }
            records.append(MetricRecord(values))
        }
        return records
    }
}

/// What is wrong with a metrics file.
public enum MetricsLogError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case malformedLine(path: String, line: Int, text: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            "\(path): cannot read the metrics (\(reason))"
        case .malformedLine(let path, let line, let text):
            "\(path):\(line): not a JSON object (\(text)); each line of \(MetricsLog.fileName) must be one object such as {\"step\": 1, \"loss\": 0.5}"
        }
    }
}
