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
///
/// Turns are generated in batches fixed by the tokens alone, as TRL's loop batches them: batch `t` is turn `t` of every
/// row still going, in row order. Within a batch rows do not wait for each other: a row's tool calls start as soon as
/// its turn ends (``ToolCallQueue``), while the model goes on decoding the batch's other rows; the next batch starts
/// once the batch has been decoded and every call started during it has answered. Which rows share a decoding batch,
/// with which contexts, so never depends on how long tools take, and neither do the batch's float results (a row's
/// log-probabilities move in the last bits with its batch-mates) nor the tokens sampled from them: episodes are a
/// function of the seed, the rows and what the tools answer. A tool slower than the rest of its turn's decoding holds
/// the next batch until it answers.
public struct EpisodeRunner {
    /// One turn for the model to generate: the row, its whole context (prompt and completion so far), the row's turn
    /// number (0 for the first, 1 for the first after tools …) and how many tokens it may take.
    public struct TurnRequest: Equatable, Sendable {
        public let row: Int
        public let context: [Int]
        public let turn: Int
        public let budget: Int
    }

    /// What generates turns: each request's reply (at most its budget; more is cut). The requests of one call are the
    /// same turn of different rows, in row order. It may report a reply through `replied(request, ids)` as soon as
    /// that request's turn has ended, before the others finish decoding, so that its tool calls start meanwhile; a
    /// reply reported there is taken, the one returned for it ignored.
    public typealias TurnGenerator = (_ requests: [TurnRequest], _ replied: (_ request: Int, _ ids: [Int]) -> Void) throws -> [[Int]]

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
    /// The chat template's variables (`chat_template_kwargs`), given to every render: prompts and tool results, as
    /// TRL passes them to both.
    public let chatTemplateVariables: JSONObject

    public init(toolbox: Toolbox, tokenizer: Tokenizer, parser: ResponseParser, maxCompletionLength: Int,
                maxToolCallingIterations: Int?, maxModelLength: Int, chatTemplateVariables: JSONObject = JSONObject()) {
        self.toolbox = toolbox
        self.tokenizer = tokenizer
        self.parser = parser
        self.maxCompletionLength = maxCompletionLength
        self.maxToolCallingIterations = maxToolCallingIterations
        self.maxModelLength = maxModelLength
        self.chatTemplateVariables = chatTemplateVariables
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
                                               addGenerationPrompt: true, variables: chatTemplateVariables).ids
    }

    /// A generator sampling each turn from `model` with `options`: row `r` of the batch (numbered `rowNumbers[r]` in
    /// its round) samples its turn `t` from its own generator, seeded by ``turnSeed(_:turn:)`` and seed index
    /// `rowNumbers[r]` — turn 0 as a single-turn rollout samples row `rowNumbers[r]` — stops at its budget, and is
    /// reported as soon as it stops.
    public static func sampling(_ model: LanguageModel, options: SamplingOptions, rowNumbers: [Int]) -> TurnGenerator {
        { requests, replied in
            guard let turn = requests.first?.turn else { return [] }
            precondition(requests.allSatisfy { $0.turn == turn },
                         "a batch of turns mixes turns \(Set(requests.map(\.turn)).sorted())")
            var turnOptions = options
            turnOptions.seed = turnSeed(options.seed, turn: turn)
            turnOptions.maxNewTokens = requests.map(\.budget).max() ?? 0
            guard turnOptions.maxNewTokens > 0 else { return requests.map { _ in [] } }
            return withoutActuallyEscaping(replied) { replied in
                model.generate(requests.map(\.context), options: turnOptions, seedIndices: requests.map { rowNumbers[$0.row] },
                               shouldStop: { index, ids in ids.count >= requests[index].budget },
                               onFinish: { index, sequence in replied(index, sequence.ids) }).map(\.ids)
            }
        }
    }

    /// The sampling seed of turn `turn` of a round sampled with `seed`: `seed` itself for the first turn, a seed mixed
    /// from both after it, so that no two (turn, row) pairs of a round share a generator (seed index `r + t`, as
    /// before, gave turn 1 of row `r` the stream of turn 0 of row `r + 1`).
    static func turnSeed(_ seed: UInt64, turn: Int) -> UInt64 {
        turn == 0 ? seed : mixedSeed(seed, UInt64(turn), 0x7E4A_7C15_0000_0001)
    }

    /// Runs the episodes whose prompts are `promptIds`, generating their turns with `generate`.
    public func run(promptIds: [[Int]], episodes: [Episode], generate: TurnGenerator) throws -> [Result] {
        var results = promptIds.map { _ in Result(completionIds: [], modelTokens: [], messages: []) }
        let queue = ToolCallQueue(toolbox: toolbox)
        defer { _ = queue.takeAll() }

        // The reply to `request`: it joins the row's completion, and its tool calls start.
        func take(_ reply: [Int], for request: TurnRequest) {
            let row = request.row, prompt = promptIds[row].count
            let reply = Array(reply.prefix(request.budget))
            let toolLength = request.context.count - prompt - results[row].completionIds.count
            results[row].completionIds = Array(request.context[prompt...]) + reply
            results[row].modelTokens += Array(repeating: false, count: toolLength) + Array(repeating: true, count: reply.count)
            guard request.turn == 0 || !reply.isEmpty else { return }
            let message = parser.parse(reply, prefix: request.context, tools: episodes[row].tools)
            results[row].messages.append(.object(message))
            let calls = toolCalls(in: .object(message))
            if !calls.isEmpty && request.turn < (maxToolCallingIterations ?? .max) {
                queue.start(calls, row: row, turn: request.turn, in: episodes[row])
            }
        }

        var requests = promptIds.indices.map { TurnRequest(row: $0, context: promptIds[$0], turn: 0, budget: maxCompletionLength) }
        while !requests.isEmpty {
            for request in requests where request.budget == 0 { take([], for: request) }
            let batch = requests.filter { $0.budget > 0 }
            if !batch.isEmpty {
                var taken = Set<Int>()
                let replies = try generate(batch) { index, ids in
                    if taken.insert(index).inserted { take(ids, for: batch[index]) }
                }
                for index in batch.indices where !taken.contains(index) { take(replies[index], for: batch[index]) }
            }
            // Every row whose turn called tools takes its next turn in the next batch, in row order, once all of them
            // have answered: the batches follow the tokens, not the tools' timing.
            requests = try queue.takeAll().compactMap { try nextTurn(after: $0, results: &results, promptIds: promptIds) }
        }
        return results
    }

    /// The row's next turn once its tool calls have answered, or nil when the episode ends there: a call ended it, or
    /// the results would not fit.
    private func nextTurn(after answer: ToolCallQueue.Answer, results: inout [Result], promptIds: [[Int]]) throws -> TurnRequest? {
        let row = answer.row
        let outcomes = try answer.outcomes.get()
        let calls = toolCalls(in: results[row].messages.last!)
        results[row].toolCalls += outcomes.count
        results[row].toolFailures += outcomes.filter(\.failed).count
        if outcomes.contains(where: \.endsEpisode) { return nil }
        let toolMessages = zip(calls, outcomes).map { call, outcome in
            JSONValue.object(JSONObject([("role", "tool"), ("name", .string(call.name)), ("content", .string(outcome.text))]))
        }
        let context = promptIds[row] + results[row].completionIds + (try suffixIds(toolMessages))
        let length = context.count - promptIds[row].count
        // A result that would not fit is dropped, and the episode ends with what it has.
        if length > maxCompletionLength || context.count >= maxModelLength { return nil }
        results[row].messages += toolMessages
        return TurnRequest(row: row, context: context, turn: answer.turn + 1, budget: maxCompletionLength - length)
    }

    /// A parsed tool call.
    struct ToolCall: Sendable {
        let name: String
        let arguments: JSONValue
    }

    private func toolCalls(in message: JSONValue) -> [ToolCall] {
        guard case .array(let calls)? = message["tool_calls"] else { return [] }
        return calls.compactMap { call in
            guard let function = call["function"], let name = function["name"]?.stringValue else { return nil }
            return ToolCall(name: name, arguments: function["arguments"] ?? .object(JSONObject()))
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
        var prefix = try tokenizer.applyChatTemplate(messages: dummy, addGenerationPrompt: false, variables: chatTemplateVariables).ids
        let full = try tokenizer.applyChatTemplate(messages: dummy + toolMessages, addGenerationPrompt: true,
                                                   variables: chatTemplateVariables).ids
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
