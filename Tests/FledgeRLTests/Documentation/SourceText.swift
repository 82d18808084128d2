import Foundation

/// What the configuration reference reads from Fledge's own source files: the doc comment of each
/// config field, and the field names listed in the resolver's tables.
enum SourceText {
    /// The doc comment of each field of the config file at `relativePath`, by TRL name: the `///`
    /// lines above the property its `ConfigField("name", \.property)` entry names (a comment above
    /// several properties in a row documents each of them).
    static func fieldDocs(in relativePath: String) throws -> [String: String] {
        let text = try RepositoryFiles.text(RepositoryFiles.url(relativePath))
        var propertyDocs: [String: String] = [:]
        var pending: [String] = []
        var current: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("///") {
                pending.append(trimmed.dropFirst(3).trimmingCharacters(in: .whitespaces))
            } else if let property = firstCapture(#"^public var (\w+)"#, in: trimmed) {
                if !pending.isEmpty { current = pending.joined(separator: " ") }
                propertyDocs[property] = current
                pending = []
            } else {
                pending = []
                current = nil
            }
        }
        var docs: [String: String] = [:]
        for match in captures(#"ConfigField\("([a-z0-9_]+)",\s*\\\.([A-Za-z0-9_.]+)[,)]"#, in: text) {
            let property = String(match[1].split(separator: ".").last!)
            docs[match[0]] = propertyDocs[property].map(markdown)
        }
        return docs
    }

    /// Every quoted snake_case name in the file at `relativePath`, sorted and without repeats.
    static func quotedNames(in relativePath: String) throws -> [String] {
        let text = try RepositoryFiles.text(RepositoryFiles.url(relativePath))
        return Set(captures(#""([a-z][a-z0-9_]*)""#, in: text).map { $0[0] }).sorted()
    }

    /// A doc comment as Markdown table text: DocC's double backticks made single, pipes escaped.
    private static func markdown(_ doc: String) -> String {
        doc.replacingOccurrences(of: "``", with: "`").replacingOccurrences(of: "|", with: "\\|")
    }

    private static func firstCapture(_ pattern: String, in text: String) -> String? {
        captures(pattern, in: text).first?.first
    }

    /// The capture groups of every match of `pattern`.
    private static func captures(_ pattern: String, in text: String) -> [[String]] {
        let expression = try! NSRegularExpression(pattern: pattern)
        return expression.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { match in
            (1..<match.numberOfRanges).map { String(text[Range(match.range(at: $0), in: text)!]) }
        }
    }
}
