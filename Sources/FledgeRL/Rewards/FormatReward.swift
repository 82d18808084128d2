import Foundation

/// Format: 1 when the completion matches a regular expression (searched anywhere, `.` matching
/// newlines too; anchor with `^…$` to demand the whole completion), else 0. The default demands a
/// `<think>…</think>` block followed by an `<answer>…</answer>` block and nothing else.
public struct FormatReward: RewardFunction {
    /// The default layout: reasoning in `<think>`, then the answer in `<answer>`.
    public static let thinkThenAnswer = #"^\s*<think>.*?</think>\s*<answer>.*?</answer>\s*$"#

    public let name: String
    /// The regular expression (ICU syntax, as `NSRegularExpression` reads it).
    public let pattern: String
    private let expression: NSRegularExpression

    /// Throws a `RewardError` naming the pattern when it is not a valid regular expression.
    public init(pattern: String = FormatReward.thinkThenAnswer, name: String = "format") throws {
        do {
            expression = try NSRegularExpression(pattern: pattern, options: [.dotMatchesLineSeparators])
        } catch {
            throw RewardError("reward function '\(name)': '\(pattern)' is not a valid regular expression (\(error))")
        }
        self.pattern = pattern
        self.name = name
    }

    public func score(_ samples: [RewardSample]) -> [Double?] {
        samples.map { sample in
            let text = sample.completion
            return expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil ? 0 : 1
        }
    }
}
