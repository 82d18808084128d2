import FledgeLM

/// GRPO's and RLOO's rows as multi-turn episodes (`tools`, `environment_command`): each row's episode starts from its
/// dataset row, its prompt is rendered with the episode's tools, and turn `t` of every row still going is sampled in
/// one batch, each row's tool calls running while the batch's other rows decode (``EpisodeRunner``).
///
/// Turn `t` of row `r` samples from its own generator (``EpisodeRunner/sampling(_:options:rowNumbers:)``), and the
/// batches are fixed by the tokens, so an episode is a function of the round's seed, the row and what its tools
/// answer, never of how long they take: a run is reproducible to the bit and resumes exactly (docs/agents.md).
struct AgentRollouts {
    let runner: EpisodeRunner
    /// Set when the toolbox has an environment: its rewards join the reward functions.
    let environmentReward: EnvironmentReward?

    /// Rollouts of `toolbox`'s episodes by a model with `tokenizer`, whose chat template must write tool calls in a
    /// format Fledge parses, rendered with `chatTemplateVariables` (`chat_template_kwargs`); an environment's rewards go
    /// to `environmentReward`.
    init(toolbox: Toolbox, tokenizer: Tokenizer, maxCompletionLength: Int, maxToolCallingIterations: Int?, maxModelLength: Int,
         chatTemplateVariables: JSONObject, environmentReward: EnvironmentReward?) throws {
        let template = try tokenizer.chatTemplate(forTools: true).source
        guard let format = ResponseFormat.detect(chatTemplate: template) else {
            throw TrainingError.invalidSetting("tools and environment_command need a chat template that writes tool "
                + "calls in a format Fledge parses (\(ResponseFormat.all.map(\.name).joined(separator: ", ")): "
                + "Qwen2.5/Qwen3 <tool_call> JSON or Llama 3.1/3.2 JSON); this tokenizer's template writes neither")
        }
        runner = EpisodeRunner(toolbox: toolbox, tokenizer: tokenizer,
                               parser: ResponseParser(format: format, tokenizer: tokenizer, chatTemplate: template),
                               maxCompletionLength: maxCompletionLength, maxToolCallingIterations: maxToolCallingIterations,
                               maxModelLength: maxModelLength, chatTemplateVariables: chatTemplateVariables)
        self.environmentReward = environmentReward
    }

    /// The rollouts of a group-sampling trainer (GRPO, RLOO) with `toolbox`, or nil without one: `arguments`' turn
    /// limit, `model`'s context length, the template variables of `generation`'s `chat_template_kwargs`, and an
    /// environment's rewards joining `rewards` as the function `environment`.
    static func forTrainer(toolbox: Toolbox?, arguments: ToolArguments, tokenizer: Tokenizer, model: LanguageModel,
                           generation: GenerationArguments, rewards: inout [any RewardFunction]) throws -> AgentRollouts? {
        guard let toolbox else { return nil }
        let environmentReward = toolbox.environment == nil ? nil : EnvironmentReward()
        if let environmentReward { rewards.append(environmentReward) }
        return try AgentRollouts(toolbox: toolbox, tokenizer: tokenizer, maxCompletionLength: generation.maxCompletionLength,
                                 maxToolCallingIterations: arguments.maxToolCallingIterations,
                                 maxModelLength: model.config.maxPositionEmbeddings,
                                 chatTemplateVariables: generation.chatTemplateKwargs?.jsonObject ?? JSONObject(),
                                 environmentReward: environmentReward)
    }

    /// One row's episode, as the rollout takes it.
    struct Row {
        let promptIds: [Int]
        let completionIds: [Int]
        let modelTokens: [Bool]
        /// Whether the episode ended without an end-of-turn token (TRL: the last id is neither EOS nor padding).
        let isTruncated: Bool
        /// The last assistant message's content: what reward functions read as the completion.
        let completion: String
        let toolCalls: Int
        let toolFailures: Int
        /// The episode's messages after the prompt: assistant turns (as parsed) and tool results.
        var messages: [JSONValue] = []

        /// Tokens of the completion the model generated (tool results and their template tokens left out).
        var modelTokenCount: Int { modelTokens.isEmpty ? completionIds.count : modelTokens.filter { $0 }.count }

        /// A single-turn completion of `row` (no tools): the sequence `generate` sampled, decoded without special
        /// tokens.
        static func singleTurn(_ row: PromptDataset.Row, _ sequence: GeneratedSequence, tokenizer: Tokenizer) -> Row {
            Row(promptIds: row.promptIds, completionIds: sequence.ids, modelTokens: [], isTruncated: sequence.finishReason != .eos,
                completion: tokenizer.decode(sequence.ids, skipSpecialTokens: true), toolCalls: 0, toolFailures: 0)
        }
    }

    /// The episodes of `rows` (dataset rows), numbered `rowNumbers` in the round.
    func generate(_ rows: [PromptDataset.Row], rowNumbers: [Int], options: SamplingOptions, model: LanguageModel) throws -> [Row] {
        var episodes: [Episode] = [], promptIds: [[Int]] = []
        for (row, number) in zip(rows, rowNumbers) {
            guard case .array(let messages) = row.prompt else {
                throw AgentError("tools and environment_command need chat prompts (a list of messages), for the chat template "
                    + "to show the tools; row \(number) of the round has a text prompt")
            }
            var columns = row.columns
            columns["prompt"] = row.prompt
            let episode = try runner.toolbox.startEpisode(rollout: number, row: columns)
            episodes.append(episode)
            promptIds.append(try runner.promptIds(messages, episode: episode))
        }
        let results = try runner.run(promptIds: promptIds, episodes: episodes,
                                     generate: EpisodeRunner.sampling(model, options: options, rowNumbers: rowNumbers))
        let endIds = Set((options.eosTokenIds ?? model.generationConfig.eosTokenIds) + [model.config.padTokenId].compactMap { $0 })
        if let environmentReward {
            environmentReward.pending = try episodes.map { try runner.toolbox.reward(of: $0) }
        }
        return zip(promptIds, results).map { prompt, result in
            let last = result.messages.last(where: { $0["role"] == .string("assistant") })
            return Row(promptIds: prompt, completionIds: result.completionIds, modelTokens: result.modelTokens,
                       isTruncated: result.completionIds.last.map { !endIds.contains($0) } ?? true,
                       completion: last?["content"]?.stringValue ?? "", toolCalls: result.toolCalls,
                       toolFailures: result.toolFailures, messages: result.messages)
        }
    }
}
