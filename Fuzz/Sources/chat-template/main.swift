import FledgeLM
import FuzzSupport

/// What the templates render.
enum Conversation {
    /// A short conversation: a system prompt, a tool call and its result, list content.
    static let messages = array(#"""
        [{"role": "system", "content": "You are terse."},
         {"role": "user", "content": "What is 2+2? <think>"},
         {"role": "assistant", "content": "", "reasoning_content": "add",
          "tool_calls": [{"type": "function", "function": {"name": "add", "arguments": {"a": 2, "b": 2}}}]},
         {"role": "tool", "content": "4"},
         {"role": "assistant", "content": "4"},
         {"role": "user", "content": ["a", {"type": "text", "text": "list content"}]}]
        """#)
    /// One tool definition.
    static let tools = array(#"""
        [{"type": "function", "function": {"name": "add", "description": "Adds.",
          "parameters": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}}}]
        """#)

    private static func array(_ json: String) -> [JSONValue] {
        guard case .array(let elements) = try! JSONParser.parse(json) else { fatalError("expected an array") }
        return elements
    }
}

/// A chat template (from tokenizer_config.json or chat_template.jinja): lexed, parsed and rendered,
/// with the engine's limits on (recursion, nesting, range size, output size).
func fuzzChatTemplate(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let template = try? ChatTemplate(String(decoding: fuzzInput(data, size), as: UTF8.self)) else { return 0 }
    _ = try? template.render(messages: Conversation.messages, tools: Conversation.tools, addGenerationPrompt: true,
                             specialTokens: ["bos_token": "<s>", "eos_token": "</s>"])
    _ = try? template.renderTracingGeneration(messages: Array(Conversation.messages.prefix(2)))
    return 0
}

runFuzzer(fuzzChatTemplate)
