import Foundation
import FledgeLM

/// `metrics.jsonl` in a run's output directory: one JSON object per logged step (`step`, `epoch`,
/// `loss`, `learning_rate`, `grad_norm`, `tokens_per_second`, `peak_memory_mb`, `elapsed_seconds`,
/// `num_tokens`, then the algorithm's metrics), and one per evaluation (`step`, `epoch`, `eval_…`).
public struct MetricsFile {
    /// The file name inside the output directory.
    public static let name = "metrics.jsonl"

    public let url: URL

    /// Opens the file of `directory` for a run that has completed `completedSteps` steps: lines of
    /// later steps (written after the checkpoint a run resumes from) are dropped; a fresh run
    /// (`completedSteps` 0) starts an empty file.
    public init(directory: URL, completedSteps: Int) throws {
        url = directory.appendingPathComponent(Self.name)
        try StepLines.reset(url, keepingStepsThrough: completedSteps)
    }

    /// Appends one record as a line.
    public func append(_ record: MetricsRecord) throws {
        try StepLines.append([JSONWriter().string(record.json)], to: url)
    }

    /// The records of a metrics file, in order.
    public static func records(at url: URL) throws -> [MetricsRecord] {
        let text = try String(contentsOf: url, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            try MetricsRecord(json: try JSONParser.parse(String(line)), source: url.path)
        }
    }
}
