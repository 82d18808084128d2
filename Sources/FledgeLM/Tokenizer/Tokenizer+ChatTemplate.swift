extension Tokenizer {
    /// The chat template transformers would pick: the `tool_use` template when tools are given and
    /// one exists, else the `default` one.
    public func chatTemplate(forTools hasTools: Bool) throws(TemplateError) -> ChatTemplate {
        let templates = config.chatTemplates
        guard let source = (hasTools ? templates["tool_use"] : nil) ?? templates["default"] ?? (templates.count == 1 ? templates.values.first : nil) else {
            throw .raised(templates.isEmpty
                ? "the tokenizer has no chat template (tokenizer_config.json has no 'chat_template' and there is no chat_template.jinja)"
                : "the tokenizer has no 'default' chat template; it has \(templates.keys.sorted().joined(separator: ", "))")
        }
        return try ChatTemplate(source)
    }

    /// Renders a conversation through the tokenizer's chat template and encodes it (no special
    /// tokens added, as `apply_chat_template(tokenize=True)` does).
    public func applyChatTemplate(messages: [JSONValue], tools: [JSONValue]? = nil, addGenerationPrompt: Bool = false,
                                  variables: JSONObject = JSONObject()) throws(TemplateError) -> (text: String, ids: [Int]) {
        let template = try chatTemplate(forTools: tools != nil)
        let text = try template.render(messages: messages, tools: tools, addGenerationPrompt: addGenerationPrompt,
                                       specialTokens: config.specialTokens, variables: variables)
        return (text, encode(text))
    }

    /// Renders and encodes a conversation as `applyChatTemplate` does, with transformers'
    /// `return_assistant_tokens_mask`: a token is marked when it overlaps text that the template's
    /// `{% generation %}` blocks rendered. The mask is `nil` when the tokens cannot be placed in the
    /// text (see `byteRanges(of:spelling:)`); it is all false when the template has no such block.
    public func applyChatTemplateMaskingAssistant(messages: [JSONValue], tools: [JSONValue]? = nil,
                                                  variables: JSONObject = JSONObject())
        throws(TemplateError) -> (ids: [Int], assistantMask: [Bool]?) {
        let template = try chatTemplate(forTools: tools != nil)
        let (text, spans) = try template.renderTracingGeneration(messages: messages, tools: tools, specialTokens: config.specialTokens,
                                                                 variables: variables)
        let ids = encode(text)
        guard let ranges = byteRanges(of: ids, spelling: text) else { return (ids, nil) }
        let mask = ranges.map { token in spans.contains { $0.overlaps(token) } }
        return (ids, mask)
    }
}
