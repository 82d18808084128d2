/// Logged completions as a compact text table for a terminal, at most 80 columns wide (counting
/// characters): the prompt's end, the completion's start, the reward (the sum of the functions'
/// rewards when there are several), the advantage and the length (`*` marks a clipped completion);
/// `-` where an entry has no reward or advantage (distillation's).
public enum CompletionTable {
    /// The widest line.
    public static let width = 80

    private static let promptWidth = 24, completionWidth = 31, rewardWidth = 8, advantageWidth = 7, lengthWidth = 5

    /// The table's lines for `log` at `step`: a title, a header, one line per shown completion
    /// (the first `printLimit`, or all) and a footnote when needed.
    public static func lines(_ log: CompletionLog, step: Int) -> [String] {
        let shown = log.completions.prefix(log.printLimit ?? log.completions.count)
        var lines = ["completions at step \(step) (\(shown.count) of \(log.completions.count)):"]
        lines.append(row("prompt", "completion", "reward", "adv", "len"))
        for completion in shown {
            let given = completion.rewards.compactMap { $0 }
            let reward = given.isEmpty ? "-" : format(given.reduce(0, +))
            lines.append(row(tail(text(of: completion.prompt), promptWidth), head(completion.completion, completionWidth), reward,
                             completion.advantage.map(format) ?? "-", "\(completion.length)\(completion.clipped ? "*" : "")"))
        }
        var notes: [String] = []
        if let names = log.completions.first?.rewardNames, names.count > 1 { notes.append("reward: sum of " + names.joined(separator: ", ")) }
        if shown.contains(where: \.clipped) { notes.append("* clipped at max_completion_length") }
        if !notes.isEmpty { lines.append(head(notes.joined(separator: "; "), width)) }
        return lines
    }

    private static func row(_ prompt: String, _ completion: String, _ reward: String, _ advantage: String, _ length: String) -> String {
        [pad(prompt, promptWidth), pad(completion, completionWidth), pad(reward, rewardWidth, right: true),
         pad(advantage, advantageWidth, right: true), pad(length, lengthWidth, right: true)].joined(separator: " ")
    }

    /// A prompt's text: the text itself, or the last chat message's content.
    private static func text(of prompt: JSONValue) -> String {
        switch prompt {
        case .string(let text): return text
        case .array(let messages): return messages.last?["content"]?.stringValue ?? ""
        default: return ""
        }
    }

    /// `text` on one line: line breaks shown as ⏎, tabs as spaces.
    private static func oneLine(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n", with: "⏎").replacingOccurrences(of: "\n", with: "⏎")
            .replacingOccurrences(of: "\r", with: "⏎").replacingOccurrences(of: "\t", with: " ")
    }

    private static func head(_ text: String, _ width: Int) -> String {
        let line = oneLine(text)
        return line.count <= width ? line : String(line.prefix(width - 1)) + "…"
    }

    private static func tail(_ text: String, _ width: Int) -> String {
        let line = oneLine(text)
        return line.count <= width ? line : "…" + String(line.suffix(width - 1))
    }

    private static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let cut = head(text, width)
        let space = String(repeating: " ", count: width - cut.count)
        return right ? space + cut : cut + space
    }

    private static func format(_ value: Double) -> String {
        let text = String(format: "%.3f", value)
        return text.count <= 7 ? text : String(format: "%.1e", value)
    }
}
