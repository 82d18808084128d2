import FledgeLM
import XCTest
@testable import FledgeRL

/// GRPO with tools and an environment end to end, on the tiny Qwen2 of the tool-episode fixtures: each row's
/// episode is reset with its dataset row, its prompt is rendered with the tools, the environment scores every
/// episode, and the tool metrics are logged.
final class AgentTrainingTests: TemporaryDirectoryTestCase {
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
        let toolbox = try XCTUnwrap(Toolbox.make(tools: config.tools ?? [], environmentCommand: config.environmentCommand,
                                                 timeout: config.environmentCommandTimeout))
        defer { toolbox.stop() }
        let grpo = try GRPO(model: model, tokenizer: tokenizer, dataset: PromptDataset(rows: rows, file: URL(fileURLWithPath: "(questions)")),
                            rewards: try BuiltInRewards.make(config: config), config: config, toolbox: toolbox)
        let outcome = try Trainer(algorithm: grpo, model: model, arguments: config.training).train()
        let record = try XCTUnwrap(outcome.state.logHistory.last)
        let metrics = Dictionary(record.values.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
        XCTAssertNotNil(metrics["tools/call_frequency"])
        XCTAssertNotNil(metrics["tools/failure_frequency"])
        // The environment rewarded rollout r with r: rows 0–3 of the round.
        XCTAssertEqual(try XCTUnwrap(metrics["rewards/environment/mean"]), 1.5, accuracy: 1e-9)

        let requests = try String(contentsOf: received, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(requests.filter { $0.contains(#""type": "reset""#) }.count, 4)
        XCTAssertEqual(requests.filter { $0.contains(#""type": "reward""#) }.count, 4)
        // Each reset carries the row's columns and its prompt.
        XCTAssert(requests[0].contains(#", "prompt": [{"role": "user", "content": "What is 6 times 7?"}]}}"#), requests[0])
        XCTAssert(requests[0].contains(#""row": {"id": "#), requests[0])
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
