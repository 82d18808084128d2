import Foundation
import XCTest
import FledgeLM
import FledgeTensor
@testable import FledgeRL

/// Distillation with tools (TRL's `DistillationTrainer(tools=…)`, named in the config as GRPO names them): the shipped
/// agent model, which calls the calculator, is the student; a freshly initialised model of the same vocabulary is the
/// teacher. The student's samples are episodes, the teacher scores them whole, and the tool results are out of the loss.
/// (`max_tool_calling_iterations` against TRL's tool loop: ``ToolEpisodeTests/testDistillationRunsTRLsToolLoop``.)
final class DistillationToolTests: TemporaryDirectoryTestCase {
    private func config(_ fields: [String: String] = [:], output: String = "run") throws -> DistillationConfig {
        let teacher = directory.appendingPathComponent("teacher")
        if !FileManager.default.fileExists(atPath: teacher.path) {
            try AgentDemoModel.writeInitialModel(to: teacher, seed: 1)
        }
        let prompts = directory.appendingPathComponent("prompts.jsonl")
        if !FileManager.default.fileExists(atPath: prompts.path) {
            let lines = AgentDemoModel.task.problems(count: 16, seed: 5).map { problem in
                let row = JSONValue.object(JSONObject([("prompt", .array([.object(JSONObject([
                    ("role", "user"), ("content", .string(problem.prompt))]))]))]))
                return JSONWriter().string(row)
            }
            try (lines.joined(separator: "\n") + "\n").write(to: prompts, atomically: true, encoding: .utf8)
        }
        var settings = [
            "model_name_or_path": AgentDemoTests.shippedModel.path, "teacher_model_name_or_path": teacher.path,
            "dataset_name": prompts.path, "output_dir": directory.appendingPathComponent(output).path,
            "tools": "[calculator]", "max_tool_calling_iterations": "1",
            "use_peft": "true", "lora_target_modules": "all-linear", "lora_r": "4", "lora_alpha": "8",
            "per_device_train_batch_size": "8", "gradient_accumulation_steps": "1", "max_completion_length": "48",
            "learning_rate": "0.01", "logging_steps": "1", "save_steps": "2", "gradient_checkpointing": "false",
            "max_steps": "4", "beta": "0.5",
            // Seed 4: 6 of step 0's 8 episodes call the calculator (seed 42, the default, samples none).
            "seed": "4",
        ]
        settings.merge(fields) { $1 }
        let resolved = try resolve(DistillationConfig.self,
                                   settings.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "\n"))
        XCTAssert(resolved.report.isUsable, "\(resolved.report.messages)")
        return resolved.config
    }

    /// Step 0's episodes call the calculator; the tool results are masked out, the token count and lengths are the
    /// student's tokens only, and the loss is TRL's: the divergence of the teacher's and the student's next-token
    /// distributions over the whole sequences, kept at the student's tokens (a 0/1 mask here), over the batch's
    /// student tokens — value, gradient and entropy.
    func testEpisodesMaskToolResultsOutOfTheLoss() throws {
        let prepared = try Distillation.prepare(try config())
        let distillation = prepared.algorithm, student = distillation.model, teacher = distillation.teacher
        let batch = try XCTUnwrap(distillation.microBatches(for: StepPosition(step: 0, epoch: 0, microBatches: 0..<1)).first)
        let rows = batch.rows
        let masks = try rows.map { try XCTUnwrap($0.modelTokens) }
        XCTAssert(masks.contains { $0.contains(false) }, "no episode called the calculator")
        for (row, mask) in zip(rows, masks) {
            XCTAssertEqual(mask.count, row.completionIds.count)
            XCTAssertLessThanOrEqual(ToolEpisodeTests.toolResultRuns(mask), 1, "max_tool_calling_iterations: 1 answers one turn")
            XCTAssertEqual(mask.last, true, "an episode ends with the student's tokens")
        }
        let studentTokens = masks.map { $0.filter { $0 }.count }
        XCTAssertEqual(batch.round.tokens, studentTokens.reduce(0, +))
        XCTAssertEqual(batch.round.metrics["completions/max_length"], Double(studentTokens.max()!))
        XCTAssertGreaterThan(try XCTUnwrap(batch.round.metrics["tools/call_frequency"]), 0)
        XCTAssertEqual(batch.round.metrics["tools/failure_frequency"], 0)

        // A LoRA B matrix: A's gradient is 0 while B is.
        let weight = try XCTUnwrap(student.trainableParameters.first { $0.name.contains("lora_B") }).tensor
        weight.zeroGrad()
        let loss = try distillation.loss(of: batch)
        loss.loss.backward()
        let gradient = try XCTUnwrap(weight.grad).toArray()

        // By hand: every completion position of the full sequences, then the 0/1 mask.
        weight.zeroGrad()
        let sequences = rows.map { $0.promptIds + $0.completionIds }, starts = rows.map(\.promptIds.count)
        let teacherHidden = Tensor.withoutGrad { teacher.scoredHiddenStates(sequences, scoredFrom: starts) }
        let full = Tensor.generalizedJSD(
            studentHidden: student.scoredHiddenStates(sequences, scoredFrom: starts), studentWeight: student.head.weight,
            teacherHidden: teacherHidden, teacherWeight: teacher.head.weight, beta: 0.5)
        let flags = masks.flatMap { $0 }
        let mask = Tensor(shape: [flags.count], values: flags.map { $0 ? 1 : 0 })
        let hand = (full.divergence * mask).sum() / Float(batch.round.tokens)
        hand.backward()
        XCTAssertEqual(loss.loss.item(), hand.item(), accuracy: 1e-6 * Swift.max(1, abs(hand.item())))
        XCTAssertLessThanOrEqual(scaledError(gradient, try XCTUnwrap(weight.grad).toArray()), 1e-5)
        XCTAssert(gradient.contains { $0 != 0 }, "a zero gradient would test nothing")
        let kept = zip(full.entropy, flags).filter(\.1).map { Double($0.0) }
        XCTAssertEqual(try XCTUnwrap(loss.metrics["entropy"]), kept.reduce(0, +) / Double(kept.count), accuracy: 1e-6)
        // Unmasked, the tool results would change the loss: the mask is doing something.
        let unmasked = full.divergence.sum().item() / Float(batch.round.tokens)
        XCTAssertNotEqual(unmasked, hand.item(), accuracy: 1e-6)
    }

    /// `chat_template_kwargs` reach the episodes' renders, as TRL passes them to its prompts and tool results: with a
    /// template that reads a variable, each episode's prompt is the template's render with it.
    func testChatTemplateKwargsReachTheEpisodes() throws {
        let model = directory.appendingPathComponent("student")
        try FileManager.default.copyItem(at: AgentDemoTests.shippedModel, to: model)
        let tokenizerConfig = model.appendingPathComponent("tokenizer_config.json")
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: tokenizerConfig)) as? [String: Any])
        object["chat_template"] = "{%- if task is defined %}{{ task }}{%- endif %}" + (try XCTUnwrap(object["chat_template"] as? String))
        try JSONSerialization.data(withJSONObject: object).write(to: tokenizerConfig)
        let prepared = try Distillation.prepare(try config(["model_name_or_path": model.path, "max_completion_length": "32",
                                                            "chat_template_kwargs": "{task: Multiply.}"]))
        let batch = try XCTUnwrap(prepared.algorithm.microBatches(for: StepPosition(step: 0, epoch: 0, microBatches: 0..<1)).first)
        let tokenizer = try TrainingModels.tokenizer(prepared.algorithm.config.run)
        for row in batch.rows {
            guard case .array(let messages) = row.prompt else { return XCTFail("a text prompt") }
            let tools = [Calculator().definition]
            let with = try tokenizer.applyChatTemplate(messages: messages, tools: tools, addGenerationPrompt: true,
                                                       variables: JSONObject([("task", "Multiply.")])).ids
            XCTAssertEqual(row.promptIds, with)
            XCTAssertNotEqual(with, try tokenizer.applyChatTemplate(messages: messages, tools: tools, addGenerationPrompt: true).ids)
        }
    }

    /// A run with tools stopped after step 2 and resumed ends with the uninterrupted run's weights, with NEFTune
    /// (each turn of an episode drawing its own sampling noise) as without.
    func testResumeContinuesExactlyWithTools() throws {
        var straightRuns: [any TrainableModel] = []
        for fields in [[:], ["neftune_noise_alpha": "1"]] {
            let name = fields.isEmpty ? "plain" : "neftune"
            let straight = try Distillation.prepare(try config(fields, output: "\(name)-straight"))
            let records = try straight.trainer().train().state.logHistory
            XCTAssert(records.contains { ($0["tools/call_frequency"] ?? 0) > 0 }, "\(name): \(records)")
            straightRuns.append(straight.model)
            let first = try Distillation.prepare(try config(fields, output: "\(name)-resumed"))
            let trainer = try first.trainer()
            XCTAssertEqual(try trainer.trainRecording(stoppingAt: 2).outcome.status, .stopped)
            let second = try Distillation.prepare(try config(fields.merging(["resume_from_checkpoint": "true"]) { $1 },
                                                             output: "\(name)-resumed"))
            _ = try second.trainer().train()
            XCTAssertEqual(maxDifference(second.model.trainableParameters, straight.model.trainableParameters), 0, name)
            XCTAssertGreaterThan(maxDifference(second.model.trainableParameters, first.model.trainableParameters), 0, name)
        }
        XCTAssertGreaterThan(maxDifference(straightRuns[0].trainableParameters, straightRuns[1].trainableParameters), 0,
                             "NEFTune changed nothing")
    }

    /// Without tools `max_tool_calling_iterations` would bound nothing: accepted at its default, refused when set
    /// (TRL ignores it); `environment_command` has no counterpart in TRL's DistillationTrainer.
    func testToolFieldsWithoutToolsAreRefused() throws {
        XCTAssert(try resolve(DistillationConfig.self, "beta: 0.5").report.isUsable)
        XCTAssert(try resolve(DistillationConfig.self, "max_tool_calling_iterations: null").report.isUsable)
        let alone = try resolve(DistillationConfig.self, "max_tool_calling_iterations: 3")
        XCTAssertFalse(alone.report.isUsable)
        XCTAssert(alone.report.errors.contains { "\($0)".contains("max_tool_calling_iterations") && "\($0)".contains("no tools") },
                  "\(alone.report.errors)")
        let withTools = try resolve(DistillationConfig.self, "tools: [calculator]\nmax_tool_calling_iterations: 3")
        XCTAssert(withTools.report.isUsable, "\(withTools.report.messages)")
        XCTAssertEqual(withTools.config.agent.maxToolCallingIterations, 3)
        let environment = try resolve(DistillationConfig.self, "environment_command: ./env.sh")
        XCTAssert(environment.report.errors.contains { "\($0)".contains("environment_command") }, "\(environment.report.errors)")
    }
}
