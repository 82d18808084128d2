import Foundation
import FledgeRL

/// What `fledge demo --agent` prints at the end: the before/after table (accuracy, calculator use), sample episodes,
/// the training curves' picture and where the run is; with `--json`, one JSON line for scripts.
struct AgentDemoReport {
    let before: AgentDemoEvaluation
    let after: AgentDemoEvaluation
    let runDirectory: URL

    func print(json: Bool) {
        Swift.print("")
        Swift.print("Held-out problems (\(before.samples.count), never seen in training), one sampled episode each:")
        Swift.print("                                  before    after")
        func row(_ label: String, _ value: (AgentDemoEvaluation) -> Double, percent: Bool = true, unit: String = "") {
            let format = percent ? "%6.1f%%  %6.1f%%" : "%7.2f  %7.2f"
            let scale = percent ? 100.0 : 1.0
            Swift.print(label.padding(toLength: 34, withPad: " ", startingAt: 0)
                + String(format: format, value(before) * scale, value(after) * scale) + unit)
        }
        row("  accuracy", \.accuracy)
        row("  episodes calling a tool", \.toolCallShare)
        row("  episodes with a correct call", \.correctToolCallShare)
        row("  failed calls (of calls)", \.failureFrequency)
        row("  mean length (model tokens)", \.meanLength, percent: false, unit: "  tokens")
        Swift.print("")
        Swift.print("Samples (prompt answer: episode, before | after):")
        for (old, new) in zip(before.samples, after.samples).prefix(6) {
            func shown(_ sample: AgentDemoEvaluation.Sample) -> String { "\(sample.transcript) \(sample.isCorrect ? "✓" : "✗")" }
            Swift.print("  \(old.prompt)\(old.answer)")
            Swift.print("    before: \(shown(old))")
            Swift.print("    after:  \(shown(new))")
        }
        Swift.print("")
        let picture = DemoReport.drawCurves(of: runDirectory, title: "fledge demo --agent: GRPO with a calculator",
                                            metrics: ["reward", "tools/call_frequency", "tools/failure_frequency",
                                                      "completions/mean_length"])
        Swift.print("Run directory: \(runDirectory.path) (metrics.jsonl, checkpoints, the adapter in PEFT's format)")
        if let picture { Swift.print("Training curves: \(picture.png.path) (and .svg)") }
        if json {
            func summary(_ evaluation: AgentDemoEvaluation) -> JSONValue {
                ["accuracy": .double(evaluation.accuracy), "tool_call_share": .double(evaluation.toolCallShare),
                 "correct_tool_call_share": .double(evaluation.correctToolCallShare),
                 "call_frequency": .double(evaluation.callFrequency), "failure_frequency": .double(evaluation.failureFrequency),
                 "mean_length": .double(evaluation.meanLength)]
            }
            Swift.print(jsonLine(["before": summary(before), "after": summary(after), "run_dir": .string(runDirectory.path)]))
        }
    }
}
