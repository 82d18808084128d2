import FledgeLM
import FledgeTensor
import XCTest
@testable import FledgeRL

/// Multi-turn rollouts are a function of the seed, the round and what tools answer, never of how long tools take
/// (``EpisodeRunner``): on the shipped agent model, which calls the calculator, tools that sleep in different patterns
/// give bit-identical episodes, log-probabilities, losses and gradients, and a run resumed from a checkpoint with
/// tools that sleep differently ends bit-identical to the straight run.
final class AgentDeterminismTests: TemporaryDirectoryTestCase {
    private func config(run: String, _ extra: [String]) throws -> GRPOConfig {
        let yaml = [
            "defaults: trl", "model_name_or_path: \(AgentDemoTests.shippedModel.path)", "output_dir: \(directory.path)/\(run)",
            "reward_funcs: [answer]", "tools: [calculator]", "max_tool_calling_iterations: 2", "per_device_train_batch_size: 8",
            "num_generations: 4", "max_completion_length: 48", "temperature: 1.0", "beta: 0", "gradient_accumulation_steps: 1",
        ] + extra
        let resolved = try resolve(GRPOConfig.self, yaml.joined(separator: "\n"))
        XCTAssert(resolved.report.isUsable, "\(resolved.report.messages)")
        return resolved.config
    }

    private func dataset(tokenizer: Tokenizer) throws -> PromptDataset {
        let rows = try AgentDemoModel.task.problems(count: 16, seed: 5).map { try $0.chatRow(tokenizer: tokenizer) }
        return PromptDataset(rows: rows, file: URL(fileURLWithPath: "(problems)"))
    }

    /// A round of 16 episodes (two steps' worth, so old log-probs are computed) sampled with tools sleeping in each of
    /// `DelayedCalculator.patterns`: the same completion ids, tool masks, old log-probs, advantages, loss and gradient,
    /// to the bit.
    func testToolTimingChangesNoBitOfARound() throws {
        let config = try config(run: "round", ["steps_per_generation: 2", "max_steps: 2", "save_strategy: \"no\""])
        let model = try TrainingModels.load(config.run, seed: config.training.seed, gradientCheckpointing: false)
        let tokenizer = try TrainingModels.tokenizer(config.run)
        let dataset = try dataset(tokenizer: tokenizer)
        let weight = try XCTUnwrap(model.namedWeights.first { $0.0.hasSuffix("layers.0.self_attn.q_proj.weight") }?.1)
        for (_, weight) in model.namedWeights { weight.requiresGrad = true }

        struct Observed {
            let batches: [GRPO.MicroBatch]
            let losses: [UInt32]
            let gradient: [UInt32]
            let calls: Int
        }
        func observe(_ delay: @escaping DelayedCalculator.Delay) throws -> Observed {
            let environment = DelayedCalculator(delay: delay)
            let grpo = try GRPO(model: model, tokenizer: tokenizer, dataset: dataset, rewards: try BuiltInRewards.make(config: config),
                                config: config, toolbox: try Toolbox(tools: [], environment: environment))
            var batches: [GRPO.MicroBatch] = []
            for step in 0..<2 {
                batches += try grpo.microBatches(for: StepPosition(step: step, epoch: 0, microBatches: step..<(step + 1)))
            }
            weight.zeroGrad()
            var losses: [UInt32] = []
            for batch in batches {
                let loss = try grpo.loss(of: batch).loss
                loss.backward()
                losses.append(loss.item().bitPattern)
            }
            return Observed(batches: batches, losses: losses, gradient: try XCTUnwrap(weight.grad).toArray().map(\.bitPattern),
                            calls: environment.calls)
        }

        let observed = try DelayedCalculator.patterns.map { (name: $0.name, observed: try observe($0.delay)) }
        let first = observed[0].observed
        let completions = first.batches.flatMap(\.completions)
        XCTAssertEqual(completions.count, 16)
        XCTAssertGreaterThanOrEqual(first.calls, 4, "fewer than four episodes called the calculator")
        XCTAssert(completions.contains { $0.modelTokens?.contains(false) == true }, "no episode has tool-result tokens")
        XCTAssert(completions.allSatisfy { $0.oldLogProbs != nil }, "the round has no old log-probs to compare")
        XCTAssert(completions.contains { $0.advantage != 0 }, "every advantage is 0: the loss would compare nothing")
        for (name, other) in observed.dropFirst() {
            XCTAssertEqual(other.calls, first.calls, name)
            let otherCompletions = other.batches.flatMap(\.completions)
            XCTAssertEqual(otherCompletions.map(\.promptIds), completions.map(\.promptIds), name)
            XCTAssertEqual(otherCompletions.map(\.completionIds), completions.map(\.completionIds), name)
            XCTAssertEqual(otherCompletions.map(\.modelTokens), completions.map(\.modelTokens), name)
            XCTAssertEqual(otherCompletions.map { $0.oldLogProbs?.map(\.bitPattern) },
                           completions.map { $0.oldLogProbs?.map(\.bitPattern) }, name)
            XCTAssertEqual(otherCompletions.map(\.advantage.bitPattern), completions.map(\.advantage.bitPattern), name)
            XCTAssertEqual(other.losses, first.losses, name)
            XCTAssertEqual(other.gradient, first.gradient, name)
        }
    }

    /// Four steps straight, with the early rollouts' tools slowest, against two steps with the late rollouts' slowest,
    /// a stop, and two more resumed from checkpoint-2 with scattered delays: the same weights and logged losses and
    /// tool metrics, to the bit (full fine-tuning with AdamW's moments).
    func testGRPOWithToolsResumesExactly() throws {
        func run(_ name: String, delay: String, stopAt: Int? = nil, resume: Bool = false) throws
            -> (records: [MetricsRecord], weights: [[Float]], calls: Int, steps: [Int]) {
            let config = try config(run: name, ["max_steps: 4", "save_strategy: steps", "save_steps: 2", "logging_steps: 1",
                                                "learning_rate: 0.001"] + (resume ? ["resume_from_checkpoint: true"] : []))
            let model = try TrainingModels.load(config.run, seed: config.training.seed, gradientCheckpointing: false)
            let tokenizer = try TrainingModels.tokenizer(config.run)
            let pattern = try XCTUnwrap(DelayedCalculator.patterns.first { $0.name == delay })
            let environment = DelayedCalculator(delay: pattern.delay)
            let grpo = try GRPO(model: model, tokenizer: tokenizer, dataset: try dataset(tokenizer: tokenizer),
                                rewards: try BuiltInRewards.make(config: config), config: config,
                                toolbox: try Toolbox(tools: [], environment: environment))
            let trainer = try Trainer(algorithm: grpo, model: model, arguments: config.training)
            let (outcome, observer) = try trainer.trainRecording(stoppingAt: stopAt)
            XCTAssertEqual(outcome.status, stopAt == nil ? .completed : .stopped, name)
            return (outcome.state.logHistory, model.trainableParameters.map { $0.tensor.toArray() }, environment.calls, observer.steps)
        }
        let straight = try run("straight", delay: "early rollouts slowest")
        XCTAssertEqual(straight.records.compactMap { $0["loss"] }.count, 4)
        XCTAssertGreaterThan(straight.records.compactMap { $0["tools/call_frequency"] }.max() ?? 0, 0, "no step called the calculator")
        let stopped = try run("resumed", delay: "late rollouts slowest", stopAt: 2)
        XCTAssertEqual(stopped.steps, [1, 2])
        XCTAssertGreaterThan(stopped.calls, 0)
        let resumed = try run("resumed", delay: "scattered", resume: true)
        XCTAssertEqual(resumed.steps, [3, 4], "the resumed run did not start from checkpoint-2")
        XCTAssertGreaterThan(resumed.calls, 0)
        XCTAssertEqual(resumed.records.map(\.step), straight.records.map(\.step))
        for key in ["loss", "tools/call_frequency", "tools/failure_frequency", "rewards/answer/mean", "completions/mean_length"] {
            XCTAssertEqual(resumed.records.map { $0[key] }, straight.records.map { $0[key] }, key)
        }
        XCTAssertEqual(resumed.weights.map { $0.map(\.bitPattern) }, straight.weights.map { $0.map(\.bitPattern) },
                       "resumed weights differ from straight training")
    }
}
