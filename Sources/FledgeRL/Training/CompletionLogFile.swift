import Foundation
import FledgeLM

/// `completions.jsonl` in a run's output directory (`log_completions`): at each logging step, one
/// JSON line per completion of the latest generation round (``LoggedCompletion/json(step:)``).
public struct CompletionLogFile {
    /// The file name inside the output directory.
    public static let name = "completions.jsonl"

    public let url: URL

    /// Opens the file of `directory` for a run that has completed `completedSteps` steps, as
    /// ``MetricsFile`` does: lines of later steps (logged after the checkpoint a run resumes from)
    /// are dropped; a fresh run starts an empty file.
    public init(directory: URL, completedSteps: Int) throws {
        url = directory.appendingPathComponent(Self.name)
        try StepLines.reset(url, keepingStepsThrough: completedSteps)
    }

    /// Appends the completions logged at `step`.
    public func append(_ log: CompletionLog, step: Int) throws {
        let writer = JSONWriter()
        try StepLines.append(log.completions.map { writer.string($0.json(step: step)) }, to: url)
    }

    /// Every completion of a completions file, with its step, in order; lines of another shape are
    /// an error naming the line.
    public static func read(_ url: URL) throws -> [(step: Int, completion: LoggedCompletion)] {
        let text = try String(contentsOf: url, encoding: .utf8)
        return try text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().compactMap { index, line in
            if line.isEmpty { return nil }
            guard let entry = LoggedCompletion.read(try JSONParser.parse(String(line))) else {
                throw DatasetError(file: url.path, line: index + 1, "not a completion-log line (step, prompt, completion, length, clipped, "
                    + "and rewards and advantage when the run had them)")
            }
            return entry
        }
    }
}
