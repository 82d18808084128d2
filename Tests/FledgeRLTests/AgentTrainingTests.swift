import FledgeLM
import FledgeTensor
import XCTest
@testable import FledgeRL

/// GRPO with tools and an environment end to end, on the tiny Qwen2 of the tool-episode fixtures: each row's
/// episode is reset with its dataset row, its prompt is rendered with the tools, the environment scores every
/// episode, and the tool metrics are logged.
final class AgentTrainingTests: TemporaryDirectoryTestCase {
    /// A reward function that keeps the samples it is given and scores nothing.
    private final class RecordingReward: RewardFunction {
        let name = "recorded"
        let fullScore: Double? = nil
        private(set) var samples: [RewardSample] = []

        func score(_ samples: [RewardSample]) throws -> [Double?] {
            self.samples += samples
            return samples.map { _ in nil }
        }
    }

    private var modelDirectory: URL { fixtureURL("tool_episodes/model") }

    func testGRPOTrainsEpisodesWithAnEnvironment() throws {
        let received = directory.appendingPathComponent("requests.jsonl")
        let script = directory.appendingPathComponent("environment.sh")
        try """
            while IFS= read -r line; do
              printf '%s\\n' "$line" >> '\(received.path)'
              rollout=$(printf '%s' "$line" | sed -n 's/.*"rollout": \\([0-9]*\\).*/\\1/p')
              case "$line" in
                *'"type": "reset"'*) echo "{\\"rollout\\": $rollout, \\"text\\": \\" Think.\\", \\"tools\\": [{\\"type\\": \\"function\\", \\"function\\": {\\"name\\": \\"look\\", \\"parameters\\": {\\"type\\": \\"object\\", \\"properties\\": {}}}}]}" ;;
                *'"type": "reward"'*) echo "{\\"rollout\\": $rollout, \\"reward\\": $rollout}" ;;
                *) echo "{\\"rollout\\": $rollout, \\"result\\": \\"nothing\\"}" ;;
              esac
            done
            """.write(to: script, atomically: true, encoding: .utf8)
        let yaml = """
            model_name_or_path: \(modelDirectory.path)
            output_dir: \(directory.path)/run
            reward_funcs: [length:8]
            tools: [calculator]
            environment_command: sh '\(script.path)'
            per_device_train_batch_size: 4
            gradient_accumulation_steps: 1
            num_generations: 2
            max_completion_length: 8
            max_tool_calling_iterations: 2
            max_steps: 1
            logging_steps: 1
            save_strategy: "no"
            beta: 0
            """
        let resolved = try resolve(GRPOConfig.self, yaml)
        XCTAssert(resolved.report.isUsable, "\(resolved.report.messages)")
        let config = resolved.config
        let model = try TrainingModels.load(config.run, seed: config.training.seed, gradientCheckpointing: false)
        let tokenizer = try TrainingModels.tokenizer(config.run)
        let messages: [JSONValue] = [.object(JSONObject([("role", "user"), ("content", "What is 6 times 7?")]))]
        let promptIds = try tokenizer.applyChatTemplate(messages: messages, addGenerationPrompt: true).ids
        let rows = (0..<4).map { index in
            PromptDataset.Row(prompt: .array(messages), promptIds: promptIds, columns: JSONObject([("id", .int(index))]))
        }
        let toolbox = try XCTUnwrap(config.agent.toolbox())
        defer { toolbox.stop() }
        let recorder = RecordingReward()
        let grpo = try GRPO(model: model, tokenizer: tokenizer, dataset: PromptDataset(rows: rows, file: URL(fileURLWithPath: "(questions)")),
                            rewards: try BuiltInRewards.make(config: config) + [recorder], config: config, toolbox: toolbox)
        let outcome = try Trainer(algorithm: grpo, model: model, arguments: config.training).train()
        let record = try XCTUnwrap(outcome.state.logHistory.last)
        let metrics = Dictionary(record.values.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
        XCTAssertNotNil(metrics["tools/call_frequency"])
        XCTAssertNotNil(metrics["tools/failure_frequency"])
        // The environment rewarded rollout r with r: rows 0–3 of the round.
        XCTAssertEqual(try XCTUnwrap(metrics["rewards/environment/mean"]), 1.5, accuracy: 1e-9)
        // Reward functions get each episode's messages (assistant turns, tool results); the completion text is the
        // last assistant message's.
        XCTAssertEqual(recorder.samples.count, 4)
        for sample in recorder.samples {
            let messages = try XCTUnwrap(sample.completionMessages)
            XCTAssertEqual(messages.first?["role"], .string("assistant"))
            let last = try XCTUnwrap(messages.last { $0["role"] == .string("assistant") })
            XCTAssertEqual(sample.completion, last["content"]?.stringValue ?? "")
        }

        let requests = try String(contentsOf: received, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(requests.filter { $0.contains(#""type": "reset""#) }.count, 4)
        XCTAssertEqual(requests.filter { $0.contains(#""type": "reward""#) }.count, 4)
        // Each reset carries the row's columns and its prompt.
        XCTAssert(requests[0].contains(#", "prompt": [{"role": "user", "content": "What is 6 times 7?"}]}}"#), requests[0])
        XCTAssert(requests[0].contains(#""row": {"id": "#), requests[0])
    }

    /// RLOO takes GRPO's tool fields (a Fledge departure: TRL 1.16's RLOOTrainer has no tools): on the shipped agent
    /// model, which calls the calculator, RLOO's rows are the episodes, with the tool masks, that GRPO's are with the
    /// same seed; its loss is RLOO's formula over the model's tokens only (tool results masked out, written here
    /// with an explicit 0/1 mask), gradient included; the tool metrics are logged.
    func testRLOOTrainsTheEpisodesGRPOSamplesWithTheirToolMasks() throws {
        let agentModel = AgentDemoTests.shippedModel
        let shared = """
            defaults: trl
            model_name_or_path: \(agentModel.path)
            output_dir: \(directory.path)/run
            reward_funcs: [answer]
            tools: [calculator]
            max_tool_calling_iterations: 1
            per_device_train_batch_size: 8
            gradient_accumulation_steps: 1
            num_generations: 4
            max_completion_length: 48
            temperature: 1.0
            beta: 0
            max_steps: 1
            save_strategy: "no"
            """
        let grpoConfig = try resolve(GRPOConfig.self, shared).config
        let resolved = try resolve(RLOOConfig.self, shared)
        XCTAssert(resolved.report.isUsable, "\(resolved.report.messages)")
        let config = resolved.config
        XCTAssertEqual(config.agent, grpoConfig.agent)
        let model = try TrainingModels.load(config.run, seed: config.training.seed, gradientCheckpointing: false)
        let tokenizer = try TrainingModels.tokenizer(config.run)
        let rows = try AgentDemoModel.task.problems(count: 8, seed: 5).map { try $0.chatRow(tokenizer: tokenizer) }
        let dataset = PromptDataset(rows: rows, file: URL(fileURLWithPath: "(problems)"))
        let toolbox = try XCTUnwrap(config.agent.toolbox())
        let position = StepPosition(step: 0, epoch: 0, microBatches: 0..<1)
        let grpo = try GRPO(model: model, tokenizer: tokenizer, dataset: dataset, rewards: try BuiltInRewards.make(config: grpoConfig),
                            config: grpoConfig, toolbox: toolbox)
        let rloo = try RLOO(model: model, tokenizer: tokenizer, dataset: dataset, rewards: try BuiltInRewards.make(config: config),
                            config: config, toolbox: toolbox)
        let expected = try XCTUnwrap(grpo.microBatches(for: position).first)
        let batch = try XCTUnwrap(rloo.microBatches(for: position).first)
        XCTAssertEqual(batch.completions.map(\.promptIds), expected.completions.map(\.promptIds))
        XCTAssertEqual(batch.completions.map(\.completionIds), expected.completions.map(\.completionIds))
        XCTAssertEqual(batch.completions.map(\.modelTokens), expected.completions.map(\.modelTokens))
        XCTAssert(batch.completions.contains { $0.modelTokens?.contains(false) == true }, "no episode called the calculator")
        XCTAssertGreaterThan(try XCTUnwrap(batch.roundMetrics["tools/call_frequency"]), 0)
        XCTAssertNotNil(batch.roundMetrics["tools/failure_frequency"])
        XCTAssertEqual(batch.generationBatchTokens, batch.completions.map(\.lossTokens).reduce(0, +))
        XCTAssert(batch.completions.contains { $0.advantage != 0 }, "every advantage is 0: the loss would test nothing")

        let weight = try XCTUnwrap(model.namedWeights.first { $0.0.hasSuffix("layers.0.self_attn.q_proj.weight") }?.1)
        for (_, weight) in model.namedWeights { weight.requiresGrad = true }
        weight.zeroGrad()
        let loss = try rloo.loss(of: batch)
        loss.loss.backward()
        let gradient = try XCTUnwrap(weight.grad).toArray()
        XCTAssertNotNil(loss.metrics["tools/call_frequency"])

        // RLOO by hand: −mean_i min(r_i A_i, clip(r_i) A_i), r_i = exp(Σ_t m_t log p_t − Σ old), m the 0/1 tool mask.
        weight.zeroGrad()
        let batchRows = batch.completions
        let full = model.sequenceLogProbs(batchRows.map { $0.promptIds + $0.completionIds }, scoredFrom: batchRows.map(\.promptIds.count),
                                          temperature: 1)
        var terms: [Tensor] = [], offset = 0
        for row in batchRows {
            let count = row.completionIds.count
            let mask = Tensor(shape: [count], values: try XCTUnwrap(row.modelTokens).map { $0 ? 1 : 0 })
            let old = try XCTUnwrap(row.oldLogProbs).reduce(0, +)
            let ratio = ((full.logProbs.slice(axis: 0, offset..<(offset + count)) * mask).sum() - old).exp()
            let epsilon = Float(config.generation.epsilon)
            let clipped = ratio.clamp(min: 1 - epsilon, max: 1 + epsilon)
            terms.append(Tensor.minimum(ratio * row.advantage, clipped * row.advantage).reshaped([1]))
            offset += count
        }
        let hand = Tensor.concat(terms, axis: 0).sum() * (-1 / Float(batchRows.count))
        hand.backward()
        XCTAssertEqual(loss.loss.item(), hand.item(), accuracy: 1e-6 * Swift.max(1, Swift.abs(hand.item())))
        XCTAssertLessThanOrEqual(scaledError(gradient, try XCTUnwrap(weight.grad).toArray()), 1e-5)
    }

    /// Evaluation during training runs episodes with the tools when the run has them: on the shipped agent model,
    /// GRPO's `evaluate()` logs the tool metrics, lengths of the model's tokens, accuracy, and reward functions see
    /// each episode's messages; evaluating twice gives the same numbers.
    func testEvaluationDuringTrainingRunsEpisodes() throws {
        let yaml = """
            model_name_or_path: \(AgentDemoTests.shippedModel.path)
            output_dir: \(directory.path)/run
            reward_funcs: [answer]
            tools: [calculator]
            max_tool_calling_iterations: 1
            per_device_train_batch_size: 8
            num_generations: 4
            num_generations_eval: 2
            max_completion_length: 48
            beta: 0
            eval_strategy: steps
            eval_steps: 1
            """
        let resolved = try resolve(GRPOConfig.self, yaml)
        XCTAssert(resolved.report.isUsable, "\(resolved.report.messages)")
        let config = resolved.config
        let model = try TrainingModels.load(config.run, seed: config.training.seed, gradientCheckpointing: false)
        let tokenizer = try TrainingModels.tokenizer(config.run)
        let problems = AgentDemoModel.task.problems(count: 24, seed: 8)
        let rows = try problems.map { try $0.chatRow(tokenizer: tokenizer) }
        let recorder = RecordingReward()
        let grpo = try GRPO(model: model, tokenizer: tokenizer, dataset: PromptDataset(rows: Array(rows[..<8]), file: URL(fileURLWithPath: "(train)")),
                            rewards: try BuiltInRewards.make(config: config) + [recorder], config: config,
                            evaluationDataset: PromptDataset(rows: Array(rows[8...]), file: URL(fileURLWithPath: "(test)")),
                            toolbox: try XCTUnwrap(config.agent.toolbox()))
        let metrics = try XCTUnwrap(grpo.evaluate())
        XCTAssertGreaterThan(try XCTUnwrap(metrics["tools/call_frequency"]), 0, "\(metrics)")
        XCTAssertNotNil(metrics["tools/failure_frequency"])
        XCTAssertNotNil(metrics["accuracy"])
        XCTAssertLessThanOrEqual(try XCTUnwrap(metrics["completions/max_length"]), 48)
        XCTAssertEqual(recorder.samples.count, 32)
        XCTAssert(recorder.samples.allSatisfy { $0.completionMessages?.first?["role"] == .string("assistant") })
        XCTAssert(recorder.samples.contains { sample in sample.completionMessages?.contains { $0["role"] == .string("tool") } == true })
        // (The recording reward scores nothing: its mean and std are NaN.)
        XCTAssertEqual(try XCTUnwrap(grpo.evaluate()).filter { !$0.value.isNaN }, metrics.filter { !$0.value.isNaN })
    }

    func testTemplatesWithoutAToolFormatAreRefused() throws {
        let demo = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../examples/demo/model").standardizedFileURL
        let yaml = """
            model_name_or_path: \(demo.path)
            output_dir: \(directory.path)/run
            reward_funcs: [answer]
            beta: 0
            per_device_train_batch_size: 4
            num_generations: 2
            max_completion_length: 4
            """
        let config = try resolve(GRPOConfig.self, yaml).config
        let model = try TrainingModels.load(config.run, seed: 0, gradientCheckpointing: false)
        let tokenizer = try TrainingModels.tokenizer(config.run)
        let rows = (0..<4).map { _ in PromptDataset.Row(prompt: .string("1+1="), promptIds: tokenizer.encode("1+1="), columns: JSONObject()) }
        XCTAssertThrowsError(try GRPO(model: model, tokenizer: tokenizer, dataset: PromptDataset(rows: rows, file: URL(fileURLWithPath: "(x)")),
                                      rewards: try BuiltInRewards.make(config: config), config: config,
                                      toolbox: try Toolbox(tools: [Calculator()]))) { error in
            XCTAssert("\(error)".contains("need a chat template that writes tool calls") || "\(error)".contains("no chat template"), "\(error)")
        }
    }
}
