import Foundation
import FledgeRL

/// Shows a run's progress on standard error: on a terminal, a live status line (step, ETA, loss
/// and the latest logged metrics) rewritten in place, with each log printed above it; in a pipe
/// or CI, one plain line per log and per checkpoint.
final class ProgressDisplay: TrainingObserver {
    private let isTerminal: Bool
    private var latest: MetricsRecord?
    private var statusShown = false

    init(isTerminal: Bool = isatty(STDERR_FILENO) != 0) {
        self.isTerminal = isTerminal
    }

    func trainingWillStart(_ progress: StepProgress) {
        let start = progress.step > 0 ? "resuming at step \(progress.step) of \(progress.maxSteps)" : "\(progress.maxSteps) steps"
        emit("training: \(start)")
    }

    func trainingDidStep(_ progress: StepProgress) {
        guard isTerminal else { return }
        var parts = ["step \(progress.step)/\(progress.maxSteps)", String(format: "%3.0f%%", 100 * Double(progress.step) / Double(progress.maxSteps))]
        let remaining = progress.maxSteps - progress.step
        if progress.stepsThisSession > 0 {
            parts.append("\(Self.duration(progress.seconds)) elapsed, ETA \(Self.duration(progress.seconds / Double(progress.stepsThisSession) * Double(remaining)))")
        }
        parts.append(String(format: "loss %.4f", progress.loss))
        if let latest { parts += Self.metrics(of: latest, skipping: ["loss", "epoch", "elapsed_seconds", "num_tokens", "peak_memory_mb"]) }
        FileHandle.standardError.write(Data(("\r\u{1B}[2K" + parts.joined(separator: " | ")).utf8))
        statusShown = true
    }

    func trainingDidLog(_ record: MetricsRecord) {
        if !record.values.contains(where: { $0.name.hasPrefix("eval_") }) { latest = record }
        emit((["step \(record.step)"] + Self.metrics(of: record, skipping: ["elapsed_seconds"])).joined(separator: " | "))
    }

    /// On a terminal, the logged completions as a table (`completions.jsonl` has them all).
    func trainingDidLogCompletions(_ log: CompletionLog, step: Int) {
        guard isTerminal else { return }
        for line in CompletionTable.lines(log, step: step) { emit(line) }
    }

    func trainingDidSave(checkpoint: URL) {
        emit("saved \(checkpoint.path)")
    }

    /// Ends the status line, so that what follows starts on a line of its own.
    func finish() {
        if statusShown { FileHandle.standardError.write(Data("\n".utf8)) }
        statusShown = false
    }

    private func emit(_ line: String) {
        let prefix = isTerminal && statusShown ? "\r\u{1B}[2K" : ""
        FileHandle.standardError.write(Data((prefix + line + "\n").utf8))
        statusShown = false
    }

    /// The metrics a progress line shows, besides the loop's own (`metrics.jsonl` has them all):
    /// each algorithm's headline numbers, per-function reward means and evaluation results.
    static let headlineMetrics: Set<String> = [
        "epoch", "loss", "learning_rate", "grad_norm", "tokens_per_second", "peak_memory_mb",
        "reward", "reward_std", "kl", "entropy", "completions/mean_length", "clip_ratio/region_mean", "frac_reward_zero_std",
        "rewards/accuracies", "rewards/margins", "objective/scores", "objective/kl", "objective/rlhf_reward",
        "policy/approxkl_avg", "loss/value_avg",
    ]

    private static func isHeadline(_ name: String) -> Bool {
        headlineMetrics.contains(name) || name.hasPrefix("eval_")
            || (name.hasPrefix("rewards/") && name.hasSuffix("/mean") && name.split(separator: "/").count == 3)
    }

    /// `name value` pieces of a record's headline metrics, numbers in a readable precision.
    private static func metrics(of record: MetricsRecord, skipping: Set<String>) -> [String] {
        record.values.filter { !skipping.contains($0.name) && isHeadline($0.name) }.map { name, value in
            switch name {
            case "learning_rate": String(format: "lr %.2e", value)
            case "tokens_per_second": String(format: "%.0f tok/s", value)
            case "peak_memory_mb": String(format: "%.0f MB", value)
            case "epoch": String(format: "epoch %.2f", value)
            default: abs(value) >= 1e-3 || value == 0 ? String(format: "\(name) %.4f", value) : String(format: "\(name) %.3e", value)
            }
        }
    }

    private static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let total = Int(seconds.rounded())
        return total >= 3600 ? String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60)
            : String(format: "%d:%02d", total / 60, total % 60)
    }
}
