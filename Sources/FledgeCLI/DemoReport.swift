import Foundation
import FledgePlot
import FledgeRL

/// What `fledge demo` prints at the end: the before/after table, sample completions, the reward
/// curve's picture and where the run is; with `--json`, one JSON line for scripts.
struct DemoReport {
    let before: DemoEvaluation
    let after: DemoEvaluation
    let runDirectory: URL
    /// The picture's title and the metrics it shows.
    let title: String
    let curves: [String]

    func print(json: Bool) {
        Swift.print("")
        Swift.print("Held-out problems (\(before.samples.count), never seen in training), one sampled answer each:")
        Swift.print("                     before    after")
        Swift.print(String(format: "  accuracy          %6.1f%%  %6.1f%%", before.accuracy * 100, after.accuracy * 100))
        Swift.print(String(format: "  mean reward       %7.3f  %7.3f", before.meanReward, after.meanReward))
        Swift.print(String(format: "  mean length       %7.2f  %7.2f  tokens", before.meanLength, after.meanLength))
        Swift.print("")
        Swift.print("Samples (prompt → completion, before | after):")
        for (old, new) in zip(before.samples, after.samples).prefix(6) {
            func shown(_ s: DemoEvaluation.Sample) -> String { "\(s.completion.isEmpty ? "∅" : s.completion) \(s.isCorrect ? "✓" : "✗")" }
            Swift.print("  \(old.prompt)\(old.answer)    \(shown(old).padding(toLength: 10, withPad: " ", startingAt: 0)) | \(shown(new))")
        }
        Swift.print("")
        let picture = Self.drawCurves(of: runDirectory, title: title, metrics: curves)
        Swift.print("Run directory: \(runDirectory.path) (metrics.jsonl, checkpoints, the adapter in PEFT's format)")
        if let picture { Swift.print("Training curves: \(picture.png.path) (and .svg)") }
        if json {
            func summary(_ evaluation: DemoEvaluation) -> JSONValue {
                ["accuracy": .double(evaluation.accuracy), "mean_reward": .double(evaluation.meanReward),
                 "mean_length": .double(evaluation.meanLength)]
            }
            Swift.print(jsonLine(["before": summary(before), "after": summary(after), "run_dir": .string(runDirectory.path)]))
        }
    }

    /// The training curves `metrics` of the run in `runDirectory` over the steps, as `reward.svg` and `.png`.
    static func drawCurves(of runDirectory: URL, title: String, metrics: [String]) -> MetricsPlot.Output? {
        do {
            let records = try MetricsLog.read(runDirectory.appendingPathComponent(MetricsLog.fileName))
            return try MetricsPlot.write(records: records, title: title, metrics: metrics,
                                         to: runDirectory.appendingPathComponent("reward"))
        } catch {
            note("could not draw the reward curve: \(error)")
            return nil
        }
    }
}
