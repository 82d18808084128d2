import FledgeLM
import XCTest
@testable import FledgeRL

/// DAPO's dynamic sampling (`dynamic_sampling`): groups without reward spread are dropped and the
/// round is refilled with groups that have it, within `dynamic_sampling_max_batches`.
final class DynamicSamplingTests: TemporaryDirectoryTestCase {
    /// Rewards with no spread for prompts whose `flat` column is true (always 0.5), and always
    /// spread for the others (each completion scored gets the next integer).
    final class HalfFlatReward: RewardFunction {
        let name = "half_flat"
        private var next = 0.0

        func score(_ samples: [RewardSample]) throws -> [Double?] {
            samples.map { sample in
                if sample.columns["flat"] == .bool(true) { return 0.5 }
                next += 1
                return next
            }
        }
    }

    private func grpo(dynamic: Bool, flatShare: Int, maxBatches: Int = 3) throws -> (GRPO, Tokenizer) {
        let resolved = try resolve(GRPOConfig.self, [
            "model_name_or_path: \(GRPOTrainingTests.modelDirectory.path)", "output_dir: \(directory.path)/run", "use_peft: true",
            "per_device_train_batch_size: 16", "num_generations: 4", "max_completion_length: 4", "beta: 0",
            "gradient_accumulation_steps: 1", "gradient_checkpointing: false", "logging_steps: 1", "max_steps: 1",
            "dynamic_sampling: \(dynamic)", "dynamic_sampling_max_batches: \(maxBatches)", "log_completions: true",
        ].joined(separator: "\n"))
        XCTAssert(resolved.report.isUsable, "\(resolved.report.messages)")
        let config = resolved.config
        let model = try TrainingModels.load(config.run, seed: config.training.seed, gradientCheckpointing: false)
        let tokenizer = try TrainingModels.tokenizer(config.run)
        // 16 prompts; `flatShare` of every 2 are flat (1: half of them, 2: all).
        let rows = ArithmeticTask().problems(count: 16, seed: 2).enumerated().map { index, problem in
            PromptDataset.Row(prompt: .string(problem.prompt), promptIds: tokenizer.encode(problem.prompt, addSpecialTokens: true),
                              columns: JSONObject([("flat", .bool(index % 2 < flatShare))]))
        }
        let dataset = PromptDataset(rows: rows, file: URL(fileURLWithPath: "(problems)"))
        return (try GRPO(model: model, tokenizer: tokenizer, dataset: dataset, rewards: [HalfFlatReward()], config: config), tokenizer)
    }

    private func firstRound(_ grpo: GRPO) throws -> RoundMicroBatch {
        let batches = try grpo.microBatches(for: StepPosition(step: 0, epoch: 0, microBatches: 0..<1))
        XCTAssertEqual(batches.count, 1)
        return batches[0]
    }

    /// Groups of a round, by prompt.
    private func groups(_ batch: RoundMicroBatch) -> [[Int]: [GRPORollout.Completion]] {
        Dictionary(grouping: batch.completions, by: \.promptIds)
    }

    func testHalfTheGroupsFlatRefillsTheRound() throws {
        let (plain, _) = try grpo(dynamic: false, flatShare: 1)
        let before = try firstRound(plain)
        XCTAssert(groups(before).values.contains { $0.allSatisfy { $0.advantage == 0 } }, "without it, some group has no signal")

        let (dynamic, _) = try grpo(dynamic: true, flatShare: 1)
        let round = try firstRound(dynamic)
        XCTAssertEqual(round.completions.count, 16)
        let byPrompt = groups(round)
        XCTAssertEqual(byPrompt.count, 4)
        for (_, group) in byPrompt {
            XCTAssertEqual(group.count, 4)
            XCTAssert(group.contains { $0.advantage != 0 }, "a group without signal was kept")
        }
        XCTAssertGreaterThan(round.roundMetrics["dynamic_sampling/dropped_frac"]!, 0)
        XCTAssertGreaterThanOrEqual(round.roundMetrics["dynamic_sampling/generation_batches"]!, 2)
        XCTAssertEqual(round.roundMetrics["dynamic_sampling/filled_frac"], 0)
        XCTAssertEqual(round.generationBatchTokens, round.completions.reduce(0) { $0 + $1.lossTokens })
        // The completion log holds the kept rows, in the order trained.
        let log = try XCTUnwrap(dynamic.completionLog)
        XCTAssertEqual(log.completions.map(\.advantage), round.completions.map { Double($0.advantage) })
    }

    func testEveryGroupFlatFillsTheRoundAfterTheLastBatch() throws {
        let (dynamic, _) = try grpo(dynamic: true, flatShare: 2, maxBatches: 2)
        let round = try firstRound(dynamic)
        XCTAssertEqual(round.completions.count, 16)
        XCTAssert(round.completions.allSatisfy { $0.advantage == 0 })
        XCTAssertEqual(round.roundMetrics["dynamic_sampling/generation_batches"], 2)
        XCTAssertEqual(round.roundMetrics["dynamic_sampling/dropped_frac"], 1)
        XCTAssertEqual(round.roundMetrics["dynamic_sampling/filled_frac"], 1)
    }
}
