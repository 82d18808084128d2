/// How an assistant turn of one chat-template family is laid out: transformers' `response_template` (the new-style
/// parser `tokenizer.parse_response` runs, transformers ≥ 5.13), as TRL 1.16's `add_response_schema` sets it for
/// each template it knows (`trl/chat_template_utils.py`: `qwen3_template`, `llama3_template`).
///
/// A format is a start anchor (the text the chat template writes before the model's first token, so that what the
/// prompt pre-writes is parsed with the reply) and named fields. A field opens at its delimiter, or, for the one
/// field without an opening delimiter (the "implicit" field), wherever text arrives outside every other field; it
/// closes at its closing delimiter or at the end. Each field's text is parsed (trimmed text, or JSON) and, for tool
/// calls, shaped into `{"type": "function", "function": {...}}`.
public struct ResponseFormat: Sendable {
    /// A parsed field's content type.
    enum Content: Sendable {
        /// The text without surrounding whitespace (Python's `str.strip()`).
        case text
        /// The text as JSON (Python's `json.loads`); text that is not JSON fails the parse.
        case json
    }

    /// How a parsed value is shaped into the message.
    enum Transform: Sendable {
        /// The value as it is.
        case none
        /// `{"type": "function", "function": value}`: the value is the whole call, `{"name": …, "arguments": …}`.
        case functionFromContent
        /// `{"type": "function", "function": {"name": capture "name", "arguments": value}}`.
        case functionFromNameCapture
    }

    /// One field of the message (`content`, `reasoning_content`, `tool_calls`).
    struct Field: Sendable {
        let name: String
        /// The delimiter that opens the field (a regular expression); nil for the implicit field.
        let open: String?
        /// The delimiter that closes it; nil when only the end of the text closes it.
        let close: String?
        let content: Content
        /// Whether each occurrence is appended to a list (`tool_calls`) rather than replacing the last.
        let repeats: Bool
        let transform: Transform
    }

    /// The text (a regular expression) after which the assistant turn starts in the prompt.
    let startAnchor: String
    /// The fields, in the template's order (which breaks ties between delimiters matching at the same place).
    let fields: [Field]
    /// The name of the format, for messages.
    public let name: String

    /// Qwen2.5 and Qwen3 (`qwen3_template`): `<think>…</think>`, then content, then any number of
    /// `<tool_call>{"name": …, "arguments": …}</tool_call>` blocks, ended by `<|im_end|>`.
    public static let qwen = ResponseFormat(
        startAnchor: #"<\|im_start\|>assistant\n"#,
        fields: [
            Field(name: "reasoning_content", open: "<think>", close: #"</think>\s*"#, content: .text, repeats: false,
                  transform: .none),
            Field(name: "tool_calls", open: "<tool_call>", close: #"</tool_call>\s*"#, content: .json, repeats: true,
                  transform: .functionFromContent),
            Field(name: "content", open: nil, close: #"<\|im_end\|>\s*"#, content: .text, repeats: false,
                  transform: .none),
        ],
        name: "qwen")

    /// Llama 3.1 and 3.2 (`llama3_template`): content, or one bare JSON call
    /// `{"name": …, "parameters": {…}}`, ended by `<|eot_id|>`.
    public static let llama3 = ResponseFormat(
        startAnchor: #"<\|start_header_id\|>assistant<\|end_header_id\|>\n\n"#,
        fields: [
            Field(name: "tool_calls", open: #"\{"name":\s*"(?<name>[^"]+)",\s*"parameters":\s*"#,
                  close: #"\}<\|eot_id\|>\s*"#, content: .json, repeats: true, transform: .functionFromNameCapture),
            Field(name: "content", open: nil, close: #"<\|eot_id\|>\s*"#, content: .text, repeats: false,
                  transform: .none),
        ],
        name: "llama3")

    /// Every format Fledge parses.
    public static let all = [qwen, llama3]

    /// The format by name (`qwen`, `llama3`).
    public static func named(_ name: String) -> ResponseFormat? {
        all.first { $0.name == name }
    }

    /// The format a chat template writes tool calls in, recognised by the markers its source contains (TRL matches
    /// the template text exactly against the copies it ships; Fledge accepts any template that writes these
    /// markers, so that a template edited elsewhere still parses); nil for a template with neither.
    public static func detect(chatTemplate source: String) -> ResponseFormat? {
        if source.contains("<tool_call>") && source.contains("<|im_start|>") { return qwen }
        if source.contains("<|start_header_id|>") && source.contains("\"parameters\"") { return llama3 }
        return nil
    }
}
