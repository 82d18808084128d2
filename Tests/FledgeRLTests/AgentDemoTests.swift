import FledgeLM
import XCTest
@testable import FledgeRL

/// `fledge demo --agent` in a reduced size: the agent model's tokenizer and template, its SFT stage on the
/// conversations the demo writes, and GRPO with the calculator on the shipped agent model, whose episodes' tool calls
/// are parsed and executed. (The accuracy gain of the full-size demo is measured in examples/demo/README.md.)
final class AgentDemoTests: TemporaryDirectoryTestCase {
    static let shippedModel = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().appendingPathComponent("../../examples/demo/agent-model").standardizedFileURL

    private func call(_ expression: String) -> JSONValue {
        .object(JSONObject([("type", "function"), ("function", .object(JSONObject([
            ("name", "calculator"), ("arguments", .object(JSONObject([("expression", .string(expression))])))])))]))
    }

    func testTemplateWritesCompactToolCallsThatParseAndTrainOnlyAssistantTokens() throws {
        let model = directory.appendingPathComponent("initial-model")
        try AgentDemoModel.writeInitialModel(to: model, seed: 1)
        let tokenizer = try Tokenizer(directory: model.path)
        let problem = AgentDemoModel.task.problem(123, 456)
        XCTAssertEqual(problem, ArithmeticTask.Problem(prompt: "123*456=", answer: "56088"))
        let conversation = AgentDemoModel.conversation(problem, callsTool: true)
        let (ids, mask) = try tokenizer.applyChatTemplateMaskingAssistant(messages: conversation)
        XCTAssertEqual(tokenizer.decode(ids), "<|im_start|>user\n123*456=<|im_end|>\n<|im_start|>assistant\n"
            + #"<tool_call>{"name": "calculator", "arguments": {"expression": "123*456"}}</tool_call><|im_end|>"#
            + "\n<|im_start|>user\n<tool_response>56088</tool_response><|im_end|>\n<|im_start|>assistant\n56088<|im_end|>\n")
        XCTAssertEqual(ids.count, 56)  // each control token and template word is one token
        let trained = zip(ids, try XCTUnwrap(mask)).filter(\.1).map(\.0)
        XCTAssertEqual(tokenizer.decode(trained), #"<tool_call>{"name": "calculator", "arguments": {"expression": "123*456"}}"#
            + "</tool_call><|im_end|>56088<|im_end|>")

        // The reply parses as TRL's Qwen schema parses it, and the call computes the answer.
        let prompt = try tokenizer.applyChatTemplate(messages: Array(conversation.prefix(1)), addGenerationPrompt: true).ids
        XCTAssertEqual(prompt.count, 16)
        let template = try tokenizer.chatTemplate(forTools: true).source
        let format = try XCTUnwrap(ResponseFormat.detect(chatTemplate: template))
        XCTAssertEqual(format.name, "qwen")
        let reply = tokenizer.encode(#"<tool_call>{"name": "calculator", "arguments": {"expression": "123*456"}}</tool_call><|im_end|>"#)
        let message = ResponseParser(format: format, tokenizer: tokenizer, chatTemplate: template).parse(reply, prefix: prompt)
        XCTAssertEqual(message["tool_calls"], .array([call("123*456")]))
        XCTAssert(AgentDemoEvaluation.hasCorrectCall([.object(message)], answer: "56088"))
        XCTAssertFalse(AgentDemoEvaluation.hasCorrectCall([.object(message)], answer: "56089"))
        XCTAssertEqual(AgentDemoEvaluation.transcript(Array(conversation.dropFirst())), #"calculator("123*456") → 56088 → 56088"#)
    }

    func testTrainingDataIsDeterministicAndKeepsHeldOutProblemsOut() throws {
        let file = directory.appendingPathComponent("train.jsonl")
        try AgentDemoModel.writeTrainingData(to: file, examples: 400)
        let text = try String(contentsOf: file, encoding: .utf8)
        let lines = text.split(separator: "\n")
        XCTAssertEqual(lines.count, 400)
        let calling = lines.filter { $0.contains("tool_calls") }.count
        XCTAssert((80...160).contains(calling), "\(calling) of 400 conversations call the calculator; about 30 % should")
        try AgentDemoModel.writeTrainingData(to: file, examples: 400)
        XCTAssertEqual(try String(contentsOf: file, encoding: .utf8), text)
        let heldOut = Set(AgentDemoModel.split(train: 10).heldOut.map(\.prompt))
        XCTAssertEqual(heldOut.count, AgentDemo.heldOutCount)
        XCTAssert(lines.allSatisfy { line in !heldOut.contains { line.contains("\"\($0)\"") } })
    }

    /// The pipeline, reduced: SFT of the initial model on the demo's conversations (a few steps), then GRPO with the
    /// calculator on the shipped agent model (which calls it), evaluated on 16 held-out problems before and after.
    func testReducedPipelineParsesAndRunsToolCalls() throws {
        let base = directory.appendingPathComponent("base")
        try AgentDemoModel.writeInitialModel(to: base.appendingPathComponent("initial-model"), seed: 1)
        try AgentDemoModel.writeTrainingData(to: base.appendingPathComponent("train.jsonl"), examples: 32)
        let sftYAML = try String(contentsOf: Self.shippedModel.deletingLastPathComponent().appendingPathComponent("agent-sft.yaml"),
                                 encoding: .utf8)
            .replacingOccurrences(of: "runs/demo-agent-base", with: base.path)
            .replacingOccurrences(of: "max_steps: ", with: "max_steps: 2 #")
            .replacingOccurrences(of: "save_steps: ", with: "save_steps: 2 #")
            .replacingOccurrences(of: "per_device_train_batch_size: ", with: "per_device_train_batch_size: 8 #")
        let sftResolution = try resolve(SFTConfig.self, sftYAML)
        XCTAssert(sftResolution.report.isUsable, "\(sftResolution.report.messages)")
        var notes: [String] = []
        let sft = try SFT.prepare(sftResolution.config) { notes.append($0) }
        XCTAssert(notes.contains { $0.hasPrefix("32 messages examples") }, "\(notes)")
        let sftOutcome = try sft.trainer().train()
        XCTAssertEqual(sftOutcome.state.globalStep, 2)

        let demo = AgentDemo(modelDirectory: Self.shippedModel, outputDirectory: directory.appendingPathComponent("run"),
                             steps: 2, evaluated: 16, prompts: 64,
                             overrides: ["per_device_train_batch_size=16", "num_generations=4", "save_strategy=no"])
        var stages: [String] = []
        let result = try demo.run { stage, _ in stages.append(stage) }
        XCTAssertEqual(stages, ["before", "after"])
        for evaluation in [result.before, result.after] {
            XCTAssertEqual(evaluation.samples.count, 16)
            for share in [evaluation.accuracy, evaluation.toolCallShare, evaluation.correctToolCallShare, evaluation.failureFrequency] {
                XCTAssert((0...1).contains(share), "\(share)")
            }
            XCTAssertGreaterThan(evaluation.meanLength, 0)
            XCTAssertLessThanOrEqual(evaluation.correctToolCallShare, evaluation.toolCallShare)
        }
        // The shipped model calls the calculator: some calls parsed, ran, and their results are in the episodes.
        let calling = result.before.samples.filter { $0.toolCalls > 0 }
        XCTAssertFalse(calling.isEmpty)
        XCTAssert(calling.contains { $0.hasCorrectToolCall && $0.transcript.contains("→ \($0.answer)") },
                  calling.map(\.transcript).joined(separator: "\n"))
        let metrics = result.outcome.state.logHistory.flatMap(\.values)
        XCTAssert(metrics.contains { $0.name == "tools/call_frequency" && $0.value > 0 })
        XCTAssert(metrics.contains { $0.name == "tools/failure_frequency" })
        XCTAssertEqual(result.outcome.state.globalStep, 2)
    }
}
