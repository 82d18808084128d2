import Foundation
import FledgeLM
import FledgeRL

/// `fledge generate --tools … --environment-command …`: one multi-turn episode, as GRPO runs it, printed as a
/// transcript — what the environment added to the prompt, the tools offered, each assistant turn, each tool call and
/// its result, and the episode's totals (tokens, the model's share, calls, failures, the environment's reward) — so
/// that an environment can be seen working before training on it.
struct GenerateEpisode {
    let model: LanguageModel
    let tokenizer: Tokenizer
    let toolbox: Toolbox
    let maxNewTokens: Int
    let maxToolCallingIterations: Int?

    func run(prompt: String, options: SamplingOptions) throws {
        let template = try tokenizer.chatTemplate(forTools: true).source
        guard let format = ResponseFormat.detect(chatTemplate: template) else {
            throw AgentError("--tools and --environment-command need a chat template that writes tool calls in a format "
                + "Fledge parses (Qwen2.5/Qwen3 <tool_call> JSON, Llama 3.1/3.2 JSON); this tokenizer's template writes neither")
        }
        let runner = EpisodeRunner(toolbox: toolbox, tokenizer: tokenizer,
                                   parser: ResponseParser(format: format, tokenizer: tokenizer, chatTemplate: template),
                                   maxCompletionLength: maxNewTokens, maxToolCallingIterations: maxToolCallingIterations,
                                   maxModelLength: model.config.maxPositionEmbeddings)
        let messages: [JSONValue] = [.object(JSONObject([("role", "user"), ("content", .string(prompt))]))]
        let episode = try toolbox.startEpisode(rollout: 0, row: JSONObject([("prompt", .array(messages))]))
        let promptIds = try runner.promptIds(messages, episode: episode)
        print("[user] \(prompt)\(episode.appendedText ?? "")")
        print("[tools] " + episode.tools.map { ($0["function"] ?? $0)["name"]?.stringValue ?? "?" }.joined(separator: ", "))
        let results = try runner.run(promptIds: [promptIds], episodes: [episode],
                                     generate: EpisodeRunner.sampling(model, options: options, rowNumbers: [0]))
        let result = results[0]
        for message in result.messages {
            print(Self.transcriptLines(message).joined(separator: "\n"))
        }
        let reward = try toolbox.reward(of: episode)
        print("[episode] \(result.completionIds.count) completion tokens, \(result.modelTokens.filter { $0 }.count) generated "
            + "by the model; \(result.toolCalls) tool calls, \(result.toolFailures) failed"
            + (toolbox.environment == nil ? "" : "; environment reward \(reward.map { "\($0)" } ?? "none")"))
    }

    /// The lines of one message: an assistant turn's reasoning, text and calls, or a tool's result.
    static func transcriptLines(_ message: JSONValue) -> [String] {
        let role = message["role"]?.stringValue ?? "?"
        if role == "tool" {
            return ["[tool \(message["name"]?.stringValue ?? "?")] \(message["content"]?.stringValue ?? "")"]
        }
        var lines: [String] = []
        if let reasoning = message["reasoning_content"]?.stringValue { lines.append("[thinking] \(reasoning)") }
        if let content = message["content"]?.stringValue, !content.isEmpty { lines.append("[\(role)] \(content)") }
        if case .array(let calls)? = message["tool_calls"] {
            for call in calls {
                let function = call["function"]
                lines.append("[\(role) → \(function?["name"]?.stringValue ?? "?")] "
                    + JSONWriter().string(function?["arguments"] ?? .object(JSONObject())))
            }
        }
        return lines.isEmpty ? ["[\(role)]"] : lines
    }
}
