import FledgeLM

/// One row of an SFT dataset, in the shapes TRL's `SFTTrainer` accepts.
public enum SFTExample: Equatable, Sendable {
    /// Plain text (the `dataset_text_field` column, `text` by default); trained on every token.
    case text(String)
    /// A `prompt` and its `completion`, as strings.
    case promptCompletion(prompt: String, completion: String)
    /// A conversation: `messages`, a list of `{"role", "content"}` objects.
    case conversation([JSONValue])
    /// A `prompt` and its `completion`, as lists of messages.
    case conversationalPromptCompletion(prompt: [JSONValue], completion: [JSONValue])

    /// The kind of row, which every row of a dataset must share.
    public enum Format: String, Sendable {
        case text
        case promptCompletion = "prompt/completion"
        case conversation = "messages"
        case conversationalPromptCompletion = "conversational prompt/completion"

        /// Whether rows of this format have a prompt that `completion_only_loss` can leave out.
        public var hasPrompt: Bool { self == .promptCompletion || self == .conversationalPromptCompletion }

        /// Whether rows of this format are chats, rendered through the chat template.
        public var isConversational: Bool { self == .conversation || self == .conversationalPromptCompletion }
    }

    public var format: Format {
        switch self {
        case .text: .text
        case .promptCompletion: .promptCompletion
        case .conversation: .conversation
        case .conversationalPromptCompletion: .conversationalPromptCompletion
        }
    }

    /// Reads a row: `prompt` and `completion` first, then `messages`, then the text column.
    /// A null column counts as absent (a Parquet or CSV file, or JSON Lines rows with different keys,
    /// give every row every column). Errors name the file, the line or row, and the columns the row has.
    public init(row: JSONObject, textField: String, at position: DatasetRowPosition) throws(DatasetError) {
        func fail(_ message: String) -> DatasetError { DatasetError(at: position, message) }
        let row = row.droppingNulls()
        if let prompt = row["prompt"], let completion = row["completion"] {
            switch (prompt, completion) {
            case (.string(let prompt), .string(let completion)):
                self = .promptCompletion(prompt: prompt, completion: completion)
            case (.array(let prompt), .array(let completion)):
                self = .conversationalPromptCompletion(
                    prompt: try Self.messages(prompt, column: "prompt", fail), completion: try Self.messages(completion, column: "completion", fail))
            default:
                throw fail("'prompt' is \(prompt.kind) and 'completion' is \(completion.kind); both must be strings, "
                    + "or both lists of {\"role\", \"content\"} messages")
            }
        } else if let messages = row["messages"] {
            guard case .array(let list) = messages else { throw fail("'messages' is \(messages.kind); it must be a list of {\"role\", \"content\"} messages") }
            self = .conversation(try Self.messages(list, column: "messages", fail))
        } else if let text = row[textField] {
            guard case .string(let string) = text else { throw fail("'\(textField)' is \(text.kind); it must be a string") }
            self = .text(string)
        } else {
            let found = row.keys.isEmpty ? "none" : row.keys.map { "'\($0)'" }.joined(separator: ", ")
            throw fail("expected a '\(textField)' column, 'prompt' and 'completion' columns, or a 'messages' column; "
                + "found columns: \(found)")
        }
    }

    private static func messages(_ list: [JSONValue], column: String, _ fail: (String) -> DatasetError) throws(DatasetError) -> [JSONValue] {
        guard !list.isEmpty else { throw fail("'\(column)' is an empty list; it needs at least one message") }
        for (index, message) in list.enumerated() {
            guard case .string? = message["role"] else {
                throw fail("\(column)[\(index)] is not a message: each needs a string 'role' (and 'content'), found \(message.kind)"
                    + (message["role"] == nil ? "" : " with a 'role' that is not a string"))
            }
        }
        return list
    }
}
