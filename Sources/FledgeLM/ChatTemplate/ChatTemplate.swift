/// A chat template (a Jinja template from `tokenizer_config.json`), rendered as transformers'
/// `apply_chat_template` renders it, within ``TemplateLimit``: no template can crash, exhaust memory
/// or hang the process; past a limit, parsing or rendering throws ``TemplateError/limitExceeded(_:_:at:)``.
public struct ChatTemplate {
    /// The template's source text.
    public let source: String
    private let statements: [TemplateStatement]

    /// Parses `source`; fails on syntax errors, on constructs Fledge does not implement, and on nesting
    /// deeper than ``TemplateLimit/nestingDepth``.
    public init(_ source: String) throws(TemplateError) {
        self.source = source
        statements = try TemplateParser.parse(source)
    }

    /// The rendered conversation.
    ///
    /// - Parameters:
    ///   - messages: The messages (`role`, `content`, and `tool_calls`, `reasoning_content` ... where present).
    ///   - tools: Tool definitions (JSON schemas), or `nil` for none (the template sees `none`).
    ///   - addGenerationPrompt: Whether to end with the header of an assistant turn.
    ///   - specialTokens: `bos_token`, `eos_token` ... as transformers passes them.
    ///   - variables: Further template variables (`enable_thinking`, `date_string` ...); they override special tokens.
    public func render(messages: [JSONValue], tools: [JSONValue]? = nil, addGenerationPrompt: Bool = false,
                       specialTokens: [String: String] = [:], variables: JSONObject = JSONObject()) throws(TemplateError) -> String {
        try renderTracingGeneration(messages: messages, tools: tools, addGenerationPrompt: addGenerationPrompt,
                                    specialTokens: specialTokens, variables: variables).text
    }

    /// The rendered conversation and the UTF-8 byte ranges of it that `{% generation %}` blocks
    /// produced: the assistant text of a training template (transformers' assistant mask).
    public func renderTracingGeneration(messages: [JSONValue], tools: [JSONValue]? = nil, addGenerationPrompt: Bool = false,
                                        specialTokens: [String: String] = [:], variables: JSONObject = JSONObject())
        throws(TemplateError) -> (text: String, generationSpans: [Range<Int>]) {
        var globals: [String: TemplateValue] = [:]
        for (name, token) in specialTokens { globals[name] = .string(token) }
        for (name, value) in variables.entries { globals[name] = TemplateValue(value) }
        globals["messages"] = .list(messages.map { TemplateValue(Self.aliasingReasoning(Self.droppingNullFields($0))) })
        globals["tools"] = tools.map { .list($0.map(TemplateValue.init)) } ?? TemplateValue.none
        globals["documents"] = TemplateValue.none
        globals["add_generation_prompt"] = .bool(addGenerationPrompt)
        let renderer = TemplateRenderer(globals: globals)
        let text = try renderer.render(statements)
        return (text, renderer.generationSpans)
    }

    /// transformers drops the message keys whose value is null (`content=None` from OpenAI-style APIs).
    private static func droppingNullFields(_ message: JSONValue) -> JSONValue {
        guard case .object(let object) = message else { return message }
        return .object(JSONObject(object.entries.filter { $0.value != .null }.map { ($0.key, $0.value) }))
    }

    /// transformers copies reasoning given as `reasoning_content`, `thinking` or `reasoning` to both
    /// `thinking` (first key) and `reasoning_content` (last key, unless already present).
    private static func aliasingReasoning(_ message: JSONValue) -> JSONValue {
        guard case .object(let object) = message else { return message }
        guard let reasoning = ["reasoning_content", "thinking", "reasoning"].lazy.compactMap({ object[$0] }).first(where: { $0 != .null }) else {
            return message
        }
        var aliased = JSONObject([("thinking", reasoning)])
        for (key, value) in object.entries { aliased[key] = value }
        aliased["thinking"] = reasoning
        aliased["reasoning_content"] = reasoning
        return .object(aliased)
    }
}
