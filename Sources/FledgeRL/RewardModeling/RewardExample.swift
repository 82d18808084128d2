import FledgeLM

/// One row of a reward-modelling dataset as TRL's `RewardTrainer` takes it: a chosen and a rejected
/// answer, with the prompt written out (explicit) or inside both answers (implicit), all text or all
/// chat messages, or already tokenized; and an optional `margin` the chosen reward must beat the
/// rejected one by.
public struct RewardExample: Equatable, Sendable {
    /// The answers of a row.
    public enum Content: Equatable, Sendable {
        /// Plain text; `prompt` (nil for an implicit prompt) comes before each answer as written.
        case text(prompt: String?, chosen: String, rejected: String)
        /// Chat messages; each answer's messages follow the `prompt` messages (nil for an implicit prompt).
        case conversation(prompt: [JSONValue]?, chosen: [JSONValue], rejected: [JSONValue])
        /// Token ids (`chosen_ids`, `rejected_ids`), used as they are.
        case tokens(chosen: [Int], rejected: [Int])

        /// Whether the rows are chat messages.
        var isConversational: Bool { if case .conversation = self { true } else { false } }
    }

    public var content: Content
    /// The `margin` column (TRL subtracts it from the reward difference in the loss); nil without one.
    public var margin: Double?

    public init(content: Content, margin: Double? = nil) {
        self.content = content
        self.margin = margin
    }

    /// Reads a row: `chosen_ids`/`rejected_ids`, else `chosen`/`rejected` with an optional `prompt`,
    /// and an optional numeric `margin`. Errors name the file, the line or row, the columns found and
    /// what the row needs. A null column counts as absent.
    public init(row: JSONObject, at position: DatasetRowPosition) throws(DatasetError) {
        func fail(_ message: String) -> DatasetError { DatasetError(at: position, message) }
        let row = row.droppingNulls()
        switch row["margin"] {
        case nil: margin = nil
        case .int(let value): margin = Double(value)
        case .double(let value) where value.isFinite: margin = value
        case let value?: throw fail("'margin' is \(value.kind); it must be a finite number")
        }
        if let chosen = row["chosen_ids"], let rejected = row["rejected_ids"] {
            content = .tokens(chosen: try Self.ids(chosen, column: "chosen_ids", fail),
                              rejected: try Self.ids(rejected, column: "rejected_ids", fail))
            return
        }
        guard let chosen = row["chosen"], let rejected = row["rejected"] else {
            let found = row.keys.isEmpty ? "none" : row.keys.map { "'\($0)'" }.joined(separator: ", ")
            throw fail("a reward-modelling row needs 'chosen' and 'rejected' columns (with an optional 'prompt' and 'margin'), "
                + "or 'chosen_ids' and 'rejected_ids' (found columns: \(found))")
        }
        switch (row["prompt"], chosen, rejected) {
        case let (nil, .string(chosen), .string(rejected)):
            content = .text(prompt: nil, chosen: chosen, rejected: rejected)
        case let (.string(prompt)?, .string(chosen), .string(rejected)):
            content = .text(prompt: prompt, chosen: chosen, rejected: rejected)
        case let (nil, .array(chosen), .array(rejected)):
            content = .conversation(prompt: nil, chosen: try Self.messages(chosen, column: "chosen", fail),
                                    rejected: try Self.messages(rejected, column: "rejected", fail))
        case let (.array(prompt)?, .array(chosen), .array(rejected)):
            content = .conversation(prompt: try Self.messages(prompt, column: "prompt", fail),
                                    chosen: try Self.messages(chosen, column: "chosen", fail),
                                    rejected: try Self.messages(rejected, column: "rejected", fail))
        case let (prompt, chosen, rejected):
            throw fail((prompt.map { "'prompt' is \($0.kind), " } ?? "") + "'chosen' is \(chosen.kind) and 'rejected' "
                + "\(rejected.kind); they must all be strings, or all lists of {\"role\", \"content\"} messages")
        }
    }

    private static func messages(_ list: [JSONValue], column: String, _ fail: (String) -> DatasetError) throws(DatasetError) -> [JSONValue] {
        guard !list.isEmpty else { throw fail("'\(column)' is an empty list; it needs at least one message") }
        for (index, message) in list.enumerated() {
            guard case .string? = message["role"] else {
                throw fail("\(column)[\(index)] is not a message: each needs a string 'role' and a 'content', found \(message.kind)")
            }
        }
        return list
    }

    private static func ids(_ value: JSONValue, column: String, _ fail: (String) -> DatasetError) throws(DatasetError) -> [Int] {
        guard case .array(let entries) = value, !entries.isEmpty else {
            throw fail("'\(column)' is \(value.kind); it must be a non-empty list of token ids")
        }
        return try entries.map { entry throws(DatasetError) in
            guard case .int(let id) = entry, id >= 0 else {
                throw fail("'\(column)' holds \(entry.kind) \(JSONWriter().string(entry)); token ids are non-negative integers")
            }
            return id
        }
    }
}
