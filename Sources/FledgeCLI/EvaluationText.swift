import Foundation
import FledgeRL

/// An evaluation's summary as `fledge eval` prints it for people.
enum EvaluationText {
    static func summary(_ evaluation: ModelEvaluation) -> String {
        let k = evaluation.samplesPerPrompt
        var lines = ["prompts       \(evaluation.rows.count) (\(k) \(k == 1 ? "completion" : "completions") each)"]
        if let accuracy = evaluation.accuracy, let interval = evaluation.accuracyInterval {
            lines.append(String(format: "accuracy      %.1f %% (95 %% CI %.1f–%.1f %%)", accuracy * 100, interval.lower * 100,
                                interval.upper * 100))
        } else {
            lines.append("accuracy      none (no reward function has a full score)")
        }
        lines.append(String(format: "mean reward   %.4f", evaluation.meanReward))
        if k > 1 {
            lines.append("pass@k        " + evaluation.passAtK.map { String(format: "@%d %.1f %%", $0.k, $0.value * 100) }
                .joined(separator: "  "))
        }
        lines.append(String(format: "mean length   %.2f tokens", evaluation.meanLength))
        lines.append(String(format: "time          %.1f s", evaluation.seconds))
        return lines.joined(separator: "\n")
    }
}
