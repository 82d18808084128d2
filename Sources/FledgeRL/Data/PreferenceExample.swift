import FledgeLM

/// One row of a preference dataset, as TRL's `DPOTrainer` takes it: a prompt and a chosen and a
/// rejected completion, all text or all chat messages.
public enum PreferenceExample: Equatable, Sendable {
    /// Plain text: the completions follow the prompt as written.
    case text(prompt: String, chosen: String, rejected: String)
    /// Chat messages: the prompt is the conversation so far, each completion the assistant's reply.
    case conversation(prompt: [JSONValue], chosen: [JSONValue], rejected: [JSONValue])

    /// Reads the `prompt`, `chosen` and `rejected` columns of a row; errors name the file, the line or
    /// row, the columns found and what the row needs. A null column counts as absent.
    public init(row: JSONObject, at position: DatasetRowPosition) throws(DatasetError) {
        func fail(_ message: String) -> DatasetError { DatasetError(at: position, message) }
        let row = row.droppingNulls()
        let names = ["prompt", "chosen", "rejected"]
        let missing = names.filter { row[$0] == nil }
        guard missing.isEmpty else {
            let found = row.keys.isEmpty ? "none" : row.keys.map { "'\($0)'" }.joined(separator: ", ")
            throw fail("a preference row needs 'prompt', 'chosen' and 'rejected' columns; missing "
                + missing.map { "'\($0)'" }.joined(separator: ", ") + " (found columns: \(found)). Write the prompt "
                + "explicitly, not as a shared start of chosen and rejected")
        }
        switch (row["prompt"]!, row["chosen"]!, row["rejected"]!) {
        case let (.string(prompt), .string(chosen), .string(rejected)):
            self = .text(prompt: prompt, chosen: chosen, rejected: rejected)
        case let (.array(prompt), .array(chosen), .array(rejected)):
            self = .conversation(prompt: try MessageColumn.messages(prompt, column: "prompt", fail),
                                 chosen: try MessageColumn.messages(chosen, column: "chosen", fail),
                                 rejected: try MessageColumn.messages(rejected, column: "rejected", fail))
        case let (prompt, chosen, rejected):
            throw fail("'prompt' is \(prompt.kind), 'chosen' \(chosen.kind) and 'rejected' \(rejected.kind); all three "
                + "must be strings, or all three lists of {\"role\", \"content\"} messages")
        }
    }

}
