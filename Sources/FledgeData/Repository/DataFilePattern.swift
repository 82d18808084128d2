import Foundation

/// A `data_files` glob as the `datasets` library resolves it (fsspec ≥ 2023.12, like Python's glob):
/// `*` matches within one path component, `**` across components (`**/` also matches none), `[…]`
/// is a character class, `?` one character. Hidden files and folders (a component starting with `.`
/// or `__`) match only when the pattern names them.
struct DataFilePattern {
    let pattern: String
    private let regex: NSRegularExpression

    init(_ pattern: String) throws(DatasetError) {
        self.pattern = pattern
        var source = "^"
        var characters = Array(pattern)
        if characters.first == "/" { characters.removeFirst() }
        var index = 0
        while index < characters.count {
            let character = characters[index]
            switch character {
            case "*":
                if index + 1 < characters.count && characters[index + 1] == "*" {
                    if index + 2 < characters.count && characters[index + 2] == "/" {
                        source += "(?:.*/)?"
                        index += 3
                    } else {
                        source += ".*"
                        index += 2
                    }
                    continue
                }
                source += "[^/]*"
            case "?": source += "[^/]"
            case "[":
                guard let close = characters[(index + 1)...].firstIndex(of: "]") else {
                    source += "\\["
                    break
                }
                var members = String(characters[(index + 1)..<close])
                if members.hasPrefix("!") { members = "^" + members.dropFirst() }
                source += "[" + members.replacingOccurrences(of: "\\", with: "\\\\") + "]"
                index = close
            default: source += NSRegularExpression.escapedPattern(for: String(character))
            }
            index += 1
        }
        do {
            regex = try NSRegularExpression(pattern: source + "$")
        } catch {
            throw DatasetError(file: "data_files", "the pattern '\(pattern)' is not a valid glob")
        }
    }

    /// Whether `path` (relative to the dataset's folder, `/`-separated) matches.
    func matches(_ path: String) -> Bool {
        let hidden = path.split(separator: "/").contains { $0.hasPrefix(".") || $0.hasPrefix("__") }
        if hidden && !pattern.split(separator: "/").contains(where: { $0.hasPrefix(".") || $0.hasPrefix("__") }) { return false }
        return regex.firstMatch(in: path, range: NSRange(path.startIndex..., in: path)) != nil
    }
}
