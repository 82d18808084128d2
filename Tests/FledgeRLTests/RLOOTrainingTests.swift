import FledgeLM
import XCTest
@testable import FledgeRL

/// RLOO end to end on the demo's tiny arithmetic model (examples/demo/model), through GRPO's
/// generation rounds.
final class RLOOTrainingTests: TemporaryDirectoryTestCase {
    private func rloo(_ fields: [String: String] = [:], rewards: [any RewardFunction]? = nil) throws -> (RLOO, RLOOConfig) {
        var settings = [
            "model_name_or_path": GRPOTrainingTests.modelDirectory.path, "output_dir": directory.path + "/run",
            "use_peft": "true", "lora_target_modules": "all-linear", "reward_funcs": "[answer]",
            "per_device_train_batch_size": "8", "gradient_accumulation_steps": "1", "num_generations": "4",
            "max_completion_length": "5", "learning_rate": "0.003", "logging_steps": "1", "save_strategy": "\"no\"",
            "gradient_checkpointing": "false", "max_steps": "3",
        ]
        settings.merge(fields) { $1 }
        let resolved = try resolve(RLOOConfig.self, settings.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "\n"))
        XCTAssert(resolved.report.isUsable, "\(resolved.report.messages)")
        let config = resolved.config
        let model = try TrainingModels.load(config.run, seed: config.training.seed, gradientCheckpointing: false)
        let tokenizer = try TrainingModels.tokenizer(config.run)
        let rows = ArithmeticTask().problems(count: 8, seed: 11).map { problem in
            PromptDataset.Row(prompt: .string(problem.prompt), promptIds: tokenizer.encode(problem.prompt, addSpecialTokens: true),
                              columns: JSONObject([("answer", .string(problem.answer))]))
        }
        let rloo = try RLOO(model: model, tokenizer: tokenizer, dataset: PromptDataset(rows: rows, file: URL(fileURLWithPath: "(problems)")),
                            rewards: try rewards ?? BuiltInRewards.make(config: config), config: config)
        return (rloo, config)
    }

    /// Three steps with TRL's default β = 0.05 (KL in the reward): every metric finite.
    func testRunsWithFiniteMetrics() throws {
        let (rloo, config) = try rloo()
        let records = try Trainer(algorithm: rloo, model: rloo.model, arguments: config.training).train().state.logHistory
        XCTAssertEqual(records.count, 3)
        for record in records {
            // `entropy` averages the rows run: none when skip_zero_signal_rows left every row out.
            let ranRows = record["frac_skipped_rows"] != 1
            for name in ["loss", "grad_norm", "reward", "reward_std", "rewards/answer/mean", "frac_reward_zero_std", "kl",
                         "clip_ratio/region_mean", "completions/mean_length"] + (ranRows ? ["entropy"] : []) {
                XCTAssert(record[name]?.isFinite == true, "step \(record.step): \(name) = \(String(describing: record[name]))")
            }
        }
    }

    /// Leave-one-out advantages sum to zero over each prompt's completions, and on-policy (the weights
    /// that sampled the round) every ratio is 1, so the loss is minus the mean advantage. (TRL's
    /// shuffled order, `share_prompt_in_training: false`: grouped by prompt, a micro-batch of 4 would
    /// be one group, whose mean advantage is 0.)
    func testAdvantagesAreCentredPerPromptAndTheOnPolicyLossIsTheirNegativeMean() throws {
        let (rloo, _) = try rloo(["mask_truncated_completions": "true", "per_device_train_batch_size": "4",
                                  "gradient_accumulation_steps": "2", "share_prompt_in_training": "false"],
                                 rewards: [TokenSpreadReward()])
        let batches = try rloo.microBatches(for: StepPosition(step: 0, epoch: 0, microBatches: 0..<2))
        let round = batches.flatMap(\.completions)
        XCTAssertEqual(round.count, 8)
        for group in Dictionary(grouping: round, by: \.promptIds).values {
            XCTAssertEqual(group.count, 4)
            XCTAssertEqual(group.reduce(0) { $0 + $1.advantage }, 0, accuracy: 1e-5)
        }
        let batch = batches[0]
        let loss = try Tensor.withoutGrad { try rloo.loss(of: batch) }
        let meanAdvantage = batch.completions.reduce(0) { $0 + $1.advantage } / 4
        print("RLOO on-policy micro-batch: loss \(loss.loss.item()), mean advantage \(meanAdvantage)")
        XCTAssertGreaterThan(abs(meanAdvantage), 1e-3, "a micro-batch of half a round has a non-zero mean advantage")
        XCTAssertEqual(loss.loss.item(), -meanAdvantage, accuracy: 1e-5)
        XCTAssertEqual(loss.metrics["clip_ratio/region_mean"], 0)
    }
}

/// A reward spread by the completion's tokens, so that no group's rewards are all equal (the demo model's answers
/// alone may be) and no half-round has a mean advantage of exactly 0.
private struct TokenSpreadReward: RewardFunction {
    let name = "token_spread"

    func score(_ samples: [RewardSample]) throws -> [Double?] {
        samples.map { sample in Double(sample.completionIds.reduce(0) { ($0 &* 31 &+ $1) % 1009 }) / 1009 }
    }
}
