import FledgeLM

/// One row of an unpaired preference dataset, as TRL's `KTOTrainer` takes it: a prompt, one
/// completion, and whether the completion is desirable (`label`), all text or all chat messages.
public struct UnpairedPreferenceExample: Equatable, Sendable {
    public enum Content: Equatable, Sendable {
        /// Plain text: the completion follows the prompt as written.
        case text(prompt: String, completion: String)
        /// Chat messages: the prompt is the conversation so far, the completion the assistant's reply.
        case conversation(prompt: [JSONValue], completion: [JSONValue])
    }

    public var content: Content
    /// True for a desirable (thumbs-up) completion, false for an undesirable one.
    public var label: Bool

    public init(content: Content, label: Bool) {
        self.content = content
        self.label = label
    }

    public var isConversational: Bool {
        if case .conversation = content { return true }
        return false
    }

    /// Reads the `prompt`, `completion` and `label` columns of a row (the label a boolean, or 0 or 1);
    /// errors name the file, the line or row, the columns found and what the row needs. A null column
    /// counts as absent.
    public init(row: JSONObject, at position: DatasetRowPosition) throws(DatasetError) {
        func fail(_ message: String) -> DatasetError { DatasetError(at: position, message) }
        let row = row.droppingNulls()
        let missing = ["prompt", "completion", "label"].filter { row[$0] == nil }
        guard missing.isEmpty else {
            let found = row.keys.isEmpty ? "none" : row.keys.map { "'\($0)'" }.joined(separator: ", ")
            let paired = row["chosen"] != nil && row["rejected"] != nil
                ? "; this is a paired (chosen/rejected) row, and the first row is unpaired: every row must have the same shape"
                : ""
            throw fail("an unpaired preference row needs 'prompt', 'completion' and 'label' columns; missing "
                + missing.map { "'\($0)'" }.joined(separator: ", ") + " (found columns: \(found))" + paired)
        }
        switch row["label"]! {
        case .bool(let value): label = value
        case .int(let value) where value == 0 || value == 1: label = value == 1
        case let other:
            let given = if case .int(let value) = other { "the integer \(value)" } else { other.kind }
            throw fail("'label' is \(given); it must be true (a desirable completion) or false (an undesirable one)")
        }
        switch (row["prompt"]!, row["completion"]!) {
        case let (.string(prompt), .string(completion)):
            content = .text(prompt: prompt, completion: completion)
        case let (.array(prompt), .array(completion)):
            content = .conversation(prompt: try MessageColumn.messages(prompt, column: "prompt", fail),
                                    completion: try MessageColumn.messages(completion, column: "completion", fail))
        case let (prompt, completion):
            throw fail("'prompt' is \(prompt.kind) and 'completion' \(completion.kind); both must be strings, or both "
                + "lists of {\"role\", \"content\"} messages")
        }
    }

}
