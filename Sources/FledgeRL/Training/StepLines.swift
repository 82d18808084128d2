import Foundation
import FledgeLM

/// The JSON-lines logs of a run whose lines carry a `step` (`metrics.jsonl`, `completions.jsonl`).
enum StepLines {
    /// Rewrites the file at `url` for a run that has completed `completedSteps` steps: lines of later
    /// steps (written after the checkpoint a run resumes from) are dropped; a fresh run
    /// (`completedSteps` 0) starts an empty file.
    static func reset(_ url: URL, keepingStepsThrough completedSteps: Int) throws {
        var kept: [String] = []
        if completedSteps > 0, let text = try? String(contentsOf: url, encoding: .utf8) {
            for line in text.split(separator: "\n") {
                if case .int(let step)? = (try? JSONParser.parse(String(line)))?["step"], step <= completedSteps {
                    kept.append(String(line))
                }
            }
        }
        try AtomicFile.write(Data(kept.map { $0 + "\n" }.joined().utf8), to: url)
    }

    /// Appends `lines` (each without its newline) to the file at `url`.
    static func append(_ lines: [String], to url: URL) throws {
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(lines.map { $0 + "\n" }.joined().utf8))
    }
}
