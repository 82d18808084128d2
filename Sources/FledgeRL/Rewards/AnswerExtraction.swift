import Foundation

/// Finding the final answer in a completion and comparing it with a reference answer.
enum AnswerExtraction {
    /// The completion's final answer: the last `\boxed{…}`, else the text after the last `####`,
    /// else the last number; nil when it has none of these.
    static func finalAnswer(in text: String) -> String? {
        marked(text) ?? lastNumber(in: text)
    }

    /// The reference answer of a dataset value: a number, or a string's marked answer (`\boxed{…}`,
    /// `#### …`, as in GSM8K's `answer` column) or else the whole trimmed string; nil for anything
    /// else or blank.
    static func reference(_ value: JSONValue) -> String? {
        switch value {
        case .int(let number): return String(number)
        case .double(let number): return String(number)
        case .string(let text):
            let answer = marked(text) ?? text.trimmingCharacters(in: .whitespacesAndNewlines)
            return answer.isEmpty ? nil : answer
        default: return nil
        }
    }

    /// Whether two answers agree: numerically when both read as numbers (commas, `$`, `%` and a
    /// trailing period ignored; fractions `a/b` and `\frac{a}{b}` read), else as text ignoring
    /// whitespace and case.
    static func same(_ answer: String, _ reference: String) -> Bool {
        if let a = number(answer), let b = number(reference) {
            return Swift.abs(a - b) <= 1e-6 * Swift.max(1, Swift.abs(b))
        }
        return squeezed(answer) == squeezed(reference)
    }

    /// The last `\boxed{…}` (braces balanced) or the rest of the line after the last `####`.
    private static func marked(_ text: String) -> String? {
        if let range = text.range(of: "\\boxed{", options: .backwards) {
            var depth = 1
            var end = range.upperBound
            while end < text.endIndex {
                switch text[end] {
                case "{": depth += 1
                case "}": depth -= 1
                default: break
                }
                if depth == 0 { return text[range.upperBound..<end].trimmingCharacters(in: .whitespaces) }
                end = text.index(after: end)
            }
        }
        if let range = text.range(of: "####", options: .backwards) {
            let line = text[range.upperBound...].prefix { $0 != "\n" }
            let answer = line.trimmingCharacters(in: .whitespaces)
            if !answer.isEmpty { return answer }
        }
        return nil
    }

    private static let numberPattern = try! NSRegularExpression(pattern: #"-?\d+(?:,\d{3})*(?:\.\d+)?(?:/\d+)?"#)

    private static func lastNumber(in text: String) -> String? {
        let matches = numberPattern.matches(in: text, range: NSRange(text.startIndex..., in: text))
        return matches.last.flatMap { Range($0.range, in: text) }.map { String(text[$0]) }
    }

    private static let fractionPattern = try! NSRegularExpression(pattern: #"^\\d?frac\{(-?[\d.]+)\}\{(-?[\d.]+)\}$"#)

    /// The value of a plain number, a fraction or a LaTeX fraction.
    static func number(_ text: String) -> Double? {
        var cleaned = text.replacingOccurrences(of: ",", with: "").replacingOccurrences(of: "\\$", with: "")
            .replacingOccurrences(of: "$", with: "").replacingOccurrences(of: "\\%", with: "")
            .replacingOccurrences(of: "%", with: "").replacingOccurrences(of: " ", with: "")
        if cleaned.hasSuffix(".") { cleaned.removeLast() }
        if let value = Double(cleaned), value.isFinite { return value }
        let parts = cleaned.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count == 2, let top = Double(parts[0]), let bottom = Double(parts[1]), bottom != 0 { return top / bottom }
        let range = NSRange(cleaned.startIndex..., in: cleaned)
        if let match = fractionPattern.firstMatch(in: cleaned, range: range),
           let top = Range(match.range(at: 1), in: cleaned).flatMap({ Double(cleaned[$0]) }),
           let bottom = Range(match.range(at: 2), in: cleaned).flatMap({ Double(cleaned[$0]) }), bottom != 0 {
            return top / bottom
        }
        return nil
    }

    private static func squeezed(_ text: String) -> String {
        text.lowercased().filter { !$0.isWhitespace }
    }
}
