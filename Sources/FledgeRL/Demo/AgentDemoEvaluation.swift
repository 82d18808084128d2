import FledgeLM

/// How well a model with the calculator tool does on held-out multiplication problems: one episode per problem, run
/// as GRPO runs them in training (``AgentRollouts``: the same parsing, tool calls and turn limits).
public struct AgentDemoEvaluation: Sendable {
    /// One held-out problem and the model's episode.
    public struct Sample: Sendable {
        public let prompt: String
        public let answer: String
        /// The episode after the prompt, compactly: `calculator("123*456") → 56088 → 56088`.
        public let transcript: String
        /// Whether the final answer is right (the demo's reward).
        public let isCorrect: Bool
        /// Tool calls the reply parsed into, and how many of them failed.
        public let toolCalls: Int
        public let toolFailures: Int
        /// Whether some call was a correct one: `calculator` with an expression whose value is the answer.
        public let hasCorrectToolCall: Bool
    }

    /// The fraction of episodes whose final answer is right.
    public let accuracy: Double
    /// The fraction of episodes with at least one parsed tool call.
    public let toolCallShare: Double
    /// The fraction of episodes with a correct tool call (parsed, `calculator`, its value the answer).
    public let correctToolCallShare: Double
    /// Tool calls per episode (`tools/call_frequency`) and failed calls per call (`tools/failure_frequency`).
    public let callFrequency: Double
    public let failureFrequency: Double
    /// The mean number of tokens the model generated per episode (tool results and template tokens left out).
    public let meanLength: Double
    /// Every problem with its episode, in order.
    public let samples: [Sample]

    /// Runs one episode per problem with `options` (the demo samples as GRPO does, at the training temperature,
    /// with a fixed seed) and `toolbox`, with the turn limits of training.
    public init(model: LanguageModel, tokenizer: Tokenizer, problems: [ArithmeticTask.Problem], toolbox: Toolbox,
                options: SamplingOptions, maxCompletionLength: Int, maxToolCallingIterations: Int?) throws {
        let rollouts = try AgentRollouts(toolbox: toolbox, tokenizer: tokenizer, maxCompletionLength: maxCompletionLength,
                                         maxToolCallingIterations: maxToolCallingIterations,
                                         maxModelLength: model.config.maxPositionEmbeddings, chatTemplateVariables: JSONObject(),
                                         environmentReward: nil)
        let rows = try problems.map { try $0.chatRow(tokenizer: tokenizer) }
        var options = options
        options.maxNewTokens = maxCompletionLength
        let episodes = try rollouts.generate(rows, rowNumbers: Array(problems.indices), options: options, model: model)
        samples = zip(problems, episodes).map { problem, episode in
            Sample(prompt: problem.prompt, answer: problem.answer, transcript: Self.transcript(episode.messages),
                   isCorrect: AnswerExtraction.finalAnswer(in: episode.completion).map { AnswerExtraction.same($0, problem.answer) } ?? false,
                   toolCalls: episode.toolCalls, toolFailures: episode.toolFailures,
                   hasCorrectToolCall: Self.hasCorrectCall(episode.messages, answer: problem.answer))
        }
        let count = Double(max(problems.count, 1))
        accuracy = Double(samples.filter(\.isCorrect).count) / count
        toolCallShare = Double(samples.filter { $0.toolCalls > 0 }.count) / count
        correctToolCallShare = Double(samples.filter(\.hasCorrectToolCall).count) / count
        let calls = samples.reduce(0) { $0 + $1.toolCalls }
        callFrequency = Double(calls) / count
        failureFrequency = calls == 0 ? 0 : Double(samples.reduce(0) { $0 + $1.toolFailures }) / Double(calls)
        meanLength = Double(episodes.reduce(0) { $0 + $1.modelTokens.filter { $0 }.count }) / count
    }

    /// Whether an assistant turn of `messages` calls `calculator` with an expression whose value is `answer`.
    static func hasCorrectCall(_ messages: [JSONValue], answer: String) -> Bool {
        messages.contains { message in
            guard case .array(let calls)? = message["tool_calls"] else { return false }
            return calls.contains { call in
                guard let function = call["function"], function["name"]?.stringValue == "calculator",
                      let outcome = try? Calculator().call(arguments: function["arguments"] ?? .object(JSONObject())),
                      !outcome.failed else { return false }
                return AnswerExtraction.same(outcome.text, answer)
            }
        }
    }

    /// The episode as one line: each call as `calculator("…")`, each result and the final reply, joined by arrows.
    static func transcript(_ messages: [JSONValue]) -> String {
        var parts: [String] = []
        for message in messages {
            let content = message["content"]?.stringValue ?? ""
            if message["role"] == .string("tool") {
                parts.append(content)
                continue
            }
            if !content.isEmpty { parts.append(content) }
            if case .array(let calls)? = message["tool_calls"] {
                for call in calls {
                    let function = call["function"]
                    let arguments = function?["arguments"]?["expression"]?.stringValue.map { "\"\($0)\"" }
                        ?? JSONWriter().string(function?["arguments"] ?? .null)
                    parts.append("\(function?["name"]?.stringValue ?? "?")(\(arguments))")
                }
            }
        }
        return parts.isEmpty ? "∅" : parts.joined(separator: " → ")
    }
}

extension ArithmeticTask.Problem {
    /// The problem as a chat prompt row: one user message, the reference in column `answer`.
    func chatRow(tokenizer: Tokenizer) throws -> PromptDataset.Row {
        let messages: [JSONValue] = [.object(JSONObject([("role", "user"), ("content", .string(prompt))]))]
        return PromptDataset.Row(prompt: .array(messages),
                                 promptIds: try tokenizer.applyChatTemplate(messages: messages, addGenerationPrompt: true).ids,
                                 columns: JSONObject([("answer", .string(answer))]))
    }
}
