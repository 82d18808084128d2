import XCTest
@testable import FledgeRL

/// Reading and checking JSON Lines rows shown to users (example data, documentation samples).
enum DataRows {
    /// Columns that hold something the model reads or writes: text or chat messages.
    static let textColumns: Set<String> = ["prompt", "completion", "chosen", "rejected", "messages"]

    /// The JSON objects of `lines` (blank lines skipped), failing the test for any other line.
    static func parse(_ lines: [Substring], source: String, file: StaticString = #filePath, line: UInt = #line) -> [JSONObject] {
        var rows: [JSONObject] = []
        for (index, text) in lines.enumerated() where !text.trimmingCharacters(in: .whitespaces).isEmpty {
            switch Result(catching: { try JSONParser.parse(String(text)) }) {
            case .success(.object(let object)): rows.append(object)
            case .success(let value): XCTFail("\(source) line \(index + 1): \(value.kind), not a JSON object", file: file, line: line)
            case .failure(let error): XCTFail("\(source) line \(index + 1): not JSON: \(error)", file: file, line: line)
            }
        }
        return rows
    }

    /// Why a text column's value is neither text nor a list of `{"role", "content"}` messages, or nil
    /// when it is one.
    static func textOrMessagesProblem(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let text): return text.isEmpty ? "empty text" : nil
        case .array(let messages) where !messages.isEmpty:
            for message in messages {
                guard case .string(let role)? = message["role"], ["system", "user", "assistant", "tool"].contains(role),
                      case .string? = message["content"]
                else { return "a message must be {\"role\": system|user|assistant|tool, \"content\": text}, not \(message)" }
            }
            return nil
        default: return "expected text or a non-empty list of chat messages, found \(value?.kind ?? "nothing")"
        }
    }

    /// Fails the test for each text column of `row` that is neither text nor messages.
    static func checkTextColumns(_ row: JSONObject, at place: String, file: StaticString = #filePath, line: UInt = #line) {
        for column in row.keys where textColumns.contains(column) {
            if let problem = textOrMessagesProblem(row[column]) { XCTFail("\(place), \(column): \(problem)", file: file, line: line) }
        }
    }

    /// The lines inside the Markdown code blocks fenced with ```` ```language ````.
    static func fencedLines(_ markdown: String, language: String) -> [Substring] {
        var lines: [Substring] = []
        var inside = false
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                inside = line == "```" + language
            } else if inside {
                lines.append(line)
            }
        }
        return lines
    }
}
