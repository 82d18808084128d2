import FledgeLM

/// Multi-turn episodes as TRL 1.16's `GRPOTrainer._tool_call_loop` runs them: a turn's reply is parsed with the
/// chat template's response format; while it calls tools (and fewer than `max_tool_calling_iterations` turns have
/// called them) the calls run, their results become `tool` messages rendered by the template, and the model
/// continues from the prompt, everything so far and those messages.
///
/// The completion is every token after the prompt: the model's turns and the template's tool-result tokens between
/// them. `modelTokens` marks the model's (TRL's `tool_mask`): the tool results and the template tokens around them
/// are left out of the loss, its normalisers and the length metrics. A tool result that would take the completion
/// past `max_completion_length` (or the sequence to the model's context length) is dropped and the episode ends
/// there; a later turn is cut to what is left of `max_completion_length`.
public struct EpisodeRunner {
    /// What generates one turn for some rows: given each row's whole context (prompt and completion so far), the
    /// rows' indices, the turn number (1 for the first turn after tools) and each row's remaining token budget,
    /// the ids each row generates.
    public typealias TurnGenerator = (_ contexts: [[Int]], _ rows: [Int], _ turn: Int, _ budgets: [Int]) throws -> [[Int]]

    /// One finished episode.
    public struct Result {
        /// Every token after the prompt.
        public var completionIds: [Int]
        /// For each completion token, whether the model generated it (TRL's `tool_mask` as booleans).
        public var modelTokens: [Bool]
        /// The episode's messages after the prompt: assistant turns (as parsed) and tool results.
        public var messages: [JSONValue]
        /// Tool calls made, and how many of them failed.
        public var toolCalls = 0
        public var toolFailures = 0
    }

    public let toolbox: Toolbox
    public let tokenizer: Tokenizer
    public let parser: ResponseParser
    public let maxCompletionLength: Int
    /// Turns with tool calls whose results are given back (nil: no limit).
    public let maxToolCallingIterations: Int?
    /// The model's context length (`max_position_embeddings`).
    public let maxModelLength: Int

    public init(toolbox: Toolbox, tokenizer: Tokenizer, parser: ResponseParser, maxCompletionLength: Int,
                maxToolCallingIterations: Int?, maxModelLength: Int) {
        self.toolbox = toolbox
        self.tokenizer = tokenizer
        self.parser = parser
        self.maxCompletionLength = maxCompletionLength
        self.maxToolCallingIterations = maxToolCallingIterations
        self.maxModelLength = maxModelLength
    }

    /// The prompt of an episode: `messages` with the episode's appended text on the last user message, rendered with
    /// the episode's tools (none passed when it has none, as TRL passes `tools or None`).
    public func promptIds(_ messages: [JSONValue], episode: Episode) throws -> [Int] {
        var messages = messages
        if let text = episode.appendedText, let last = messages.lastIndex(where: { $0["role"] == .string("user") }),
           case .object(var message) = messages[last], case .string(let content)? = message["content"] {
            message["content"] = .string(content + text)
            messages[last] = .object(message)
        }
        return try tokenizer.applyChatTemplate(messages: messages, tools: episode.tools.isEmpty ? nil : episode.tools,
                                               addGenerationPrompt: true).ids
    }

    /// Runs the episodes whose prompts are `promptIds` and whose first turns are `firstTurns`.
    public func run(promptIds: [[Int]], episodes: [Episode], firstTurns: [[Int]], generate: TurnGenerator) throws -> [Result] {
        var results = firstTurns.indices.map { row in
            Result(completionIds: firstTurns[row], modelTokens: Array(repeating: true, count: firstTurns[row].count),
                   messages: [.object(parser.parse(firstTurns[row], prefix: promptIds[row], tools: episodes[row].tools))])
        }
        var calling = results.indices.filter { !toolCalls(in: results[$0].messages.last!).isEmpty }
        var turn = 0
        while !calling.isEmpty && turn < (maxToolCallingIterations ?? .max) {
            turn += 1
            var contexts: [[Int]] = [], continuing: [Int] = []
            for row in calling {
                var toolMessages: [JSONValue] = []
                var ended = false
                for call in toolCalls(in: results[row].messages.last!) {
                    results[row].toolCalls += 1
                    let outcome = try toolbox.call(call.name, arguments: call.arguments, in: episodes[row])
                    if outcome.failed { results[row].toolFailures += 1 }
                    if outcome.endsEpisode { ended = true }
                    toolMessages.append(.object(JSONObject([("role", "tool"), ("name", .string(call.name)),
                                                            ("content", .string(outcome.text))])))
                }
                if ended { continue }
                let context = promptIds[row] + results[row].completionIds + (try suffixIds(toolMessages))
                // A result that would not fit is dropped, and the episode ends with what it has.
                if context.count - promptIds[row].count > maxCompletionLength || context.count >= maxModelLength { continue }
                results[row].messages += toolMessages
                contexts.append(context)
                continuing.append(row)
            }
            guard !continuing.isEmpty else { break }
            let budgets = zip(continuing, contexts).map { maxCompletionLength - ($1.count - promptIds[$0].count) }
            let generated = try generate(contexts, continuing, turn, budgets)
            var next: [Int] = []
            for (index, row) in continuing.enumerated() {
                let reply = Array(generated[index].prefix(budgets[index]))
                let toolLength = contexts[index].count - promptIds[row].count - results[row].completionIds.count
                results[row].completionIds = Array(contexts[index][promptIds[row].count...]) + reply
                results[row].modelTokens += Array(repeating: false, count: toolLength) + Array(repeating: true, count: reply.count)
                guard !reply.isEmpty else { continue }
                let message = parser.parse(reply, prefix: contexts[index], tools: episodes[row].tools)
                results[row].messages.append(.object(message))
                if !toolCalls(in: .object(message)).isEmpty { next.append(row) }
            }
            calling = next
        }
        return results
    }

    /// A parsed tool call.
    private struct Call {
        let name: String
        let arguments: JSONValue
    }

    private func toolCalls(in message: JSONValue) -> [Call] {
        guard case .array(let calls)? = message["tool_calls"] else { return [] }
        return calls.compactMap { call in
            guard let function = call["function"], let name = function["name"]?.stringValue else { return nil }
            return Call(name: name, arguments: function["arguments"] ?? .object(JSONObject()))
        }
    }

    /// The tokens the chat template writes for `toolMessages` after an assistant turn, up to the next assistant
    /// turn's opening (TRL's `_get_tool_suffix_ids`): a dummy conversation rendered with and without them, the
    /// shorter cut after its last EOS.
    func suffixIds(_ toolMessages: [JSONValue]) throws -> [Int] {
        let name = toolMessages.first?["name"] ?? .string("")
        let call = JSONObject([("type", "function"), ("function", .object(JSONObject([("name", name), ("arguments", .object(JSONObject()))])))])
        let dummy: [JSONValue] = [
            .object(JSONObject([("role", "user"), ("content", "dummy")])),
            .object(JSONObject([("role", "assistant"), ("content", ""), ("tool_calls", .array([.object(call)]))])),
        ]
        var prefix = try tokenizer.applyChatTemplate(messages: dummy, addGenerationPrompt: false).ids
        let full = try tokenizer.applyChatTemplate(messages: dummy + toolMessages, addGenerationPrompt: true).ids
        if let eos = tokenizer.config.eosToken.flatMap(tokenizer.id(of:)), let last = prefix.lastIndex(of: eos) {
            prefix = Array(prefix[...last])
        }
        guard full.starts(with: prefix) else {
            throw AgentError("the chat template renders an assistant turn with tool calls differently when tool results "
                + "follow it, so the tool results' tokens cannot be told apart; tool calling needs a template that "
                + "renders earlier messages the same whatever follows")
        }
        return Array(full[prefix.count...])
    }
}
