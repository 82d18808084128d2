import FledgeLM
import XCTest
@testable import FledgeRL

/// GRPO end to end on the demo's tiny arithmetic model (examples/demo/model): every loss type runs,
/// the off-policy and reference paths run, the demo's reward rises, and bad datasets are refused.
final class GRPOTrainingTests: TemporaryDirectoryTestCase {
    static let modelDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().appendingPathComponent("../../examples/demo/model").standardizedFileURL

    /// A small LoRA GRPO config on the demo model, with `fields` (TRL names) set over it.
    private func config(_ fields: [String: String]) throws -> GRPOConfig {
        var settings = [
            "model_name_or_path": Self.modelDirectory.path, "output_dir": directory.path + "/run", "use_peft": "true",
            "lora_target_modules": "all-linear", "reward_funcs": "[answer]", "per_device_train_batch_size": "8",
            "gradient_accumulation_steps": "1", "num_generations": "4", "max_completion_length": "5",
            "learning_rate": "0.003", "logging_steps": "1", "save_strategy": "\"no\"", "gradient_checkpointing": "false",
        ]
        settings.merge(fields) { $1 }
        let resolved = try resolve(GRPOConfig.self, settings.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "\n"))
        XCTAssert(resolved.report.isUsable, "\(resolved.report.messages)")
        return resolved.config
    }

    private func problems(_ count: Int) -> PromptDataset {
        let tokenizer = try! Tokenizer(directory: Self.modelDirectory.path)
        let rows = ArithmeticTask().problems(count: count, seed: 11).map { problem in
            PromptDataset.Row(prompt: .string(problem.prompt), promptIds: tokenizer.encode(problem.prompt, addSpecialTokens: true),
                              columns: JSONObject([("answer", .string(problem.answer))]))
        }
        return PromptDataset(rows: rows, file: URL(fileURLWithPath: "(test problems)"))
    }

    /// Trains `config` and returns the logged records.
    private func train(_ config: GRPOConfig, prompts: Int = 8) throws -> [MetricsRecord] {
        let model = try TrainingModels.load(config.run, seed: config.training.seed, gradientCheckpointing: false)
        let tokenizer = try TrainingModels.tokenizer(config.run)
        let grpo = try GRPO(model: model, tokenizer: tokenizer, dataset: problems(prompts),
                            rewards: try BuiltInRewards.make(config: config), config: config)
        let outcome = try Trainer(algorithm: grpo, model: model, arguments: config.training).train()
        return outcome.state.logHistory
    }

    func testEveryLossTypeTrains() throws {
        for lossType in ["grpo", "bnpo", "dr_grpo", "dapo", "cispo", "sapo", "luspo", "vespo"] {
            let extra = lossType == "dapo" ? ["epsilon_high": "0.28", "beta": "0", "mask_truncated_completions": "true"] : ["beta": "0.04"]
            let records = try train(try config(["loss_type": lossType, "max_steps": "2",
                                                "output_dir": directory.path + "/" + lossType].merging(extra) { $1 }))
            XCTAssertEqual(records.count, 2, lossType)
            for record in records {
                let values = Dictionary(record.values.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
                // `entropy` averages the rows run: none when skip_zero_signal_rows left every row out (beta 0).
                let ranRows = values["frac_skipped_rows"] != 1
                for name in ["loss", "grad_norm", "reward", "reward_std", "rewards/answer/mean", "frac_reward_zero_std",
                             "completions/mean_length", "completions/clipped_ratio"] + (ranRows ? ["entropy"] : []) {
                    XCTAssert(values[name]?.isFinite ?? false, "\(lossType): \(name) is \(String(describing: values[name]))")
                }
                if lossType != "dapo" { XCTAssert(values["kl"]?.isFinite ?? false, "\(lossType): kl") }
            }
        }
    }

    func testOffPolicyAndSequenceLevelRatiosTrain() throws {
        // num_iterations 2: each round is used twice, so old log-probs are computed and the ratio moves.
        let records = try train(try config(["max_steps": "4", "num_iterations": "2", "importance_sampling_level": "sequence", "beta": "0"]))
        XCTAssertEqual(records.count, 4)
        let clipped = records.compactMap { record in record.values.first { $0.name == "clip_ratio/region_mean" }?.value }
        XCTAssertEqual(clipped.count, 4)
        XCTAssert(clipped.allSatisfy(\.isFinite))
    }

    /// A shortened `fledge demo` (16 prompts, 30 steps): the reward of the last steps is clearly above the first's.
    func testShortDemoRaisesReward() throws {
        let records = try train(try config(["max_steps": "30", "per_device_train_batch_size": "64", "num_generations": "8",
                                                   "learning_rate": "0.003", "beta": "0.001"]), prompts: 16)
        let rewards = records.compactMap { record in record.values.first { $0.name == "reward" }?.value }
        let first = rewards.prefix(6).reduce(0, +) / 6, last = rewards.suffix(6).reduce(0, +) / 6
        XCTAssertGreaterThan(last, first + 0.05, "reward \(rewards)")
    }

    func testDatasetWithoutPromptIsRefused() throws {
        let file = try writeLines([#"{"question": "1+1=", "answer": "2"}"#], to: "bad.jsonl")
        let tokenizer = try Tokenizer(directory: Self.modelDirectory.path)
        XCTAssertThrowsError(try PromptDataset(file: file, tokenizer: tokenizer)) { error in
            let text = "\(error)"
            XCTAssert(text.contains("bad.jsonl:1") && text.contains("no 'prompt' column") && text.contains("question"), text)
        }
    }

    /// Item 3 of the hardening issue: a prompt that, with max_completion_length, needs more positions
    /// than the model has is refused naming the file and line (and the other rows), before any
    /// generation; a 5-million-character prompt ends the same way in bounded memory.
    func testPromptsLongerThanTheModelAreRefusedByRow() throws {
        let long = String(repeating: "1+2= ", count: 400), huge = String(repeating: "12+34=", count: 833_334)
        let file = try writeLines([#"{"prompt": "1+2=", "answer": "3"}"#, #"{"prompt": "\#(long)", "answer": "3"}"#,
                                   #"{"prompt": "\#(huge)", "answer": "3"}"#, #"{"prompt": "2+2=", "answer": "4"}"#], to: "long.jsonl")
        let settings = try config(["max_completion_length": "8", "per_device_train_batch_size": "4"])
        let model = try TrainingModels.load(settings.run, seed: 1, gradientCheckpointing: false)
        let tokenizer = try TrainingModels.tokenizer(settings.run)
        let dataset = try PromptDataset(file: file, tokenizer: tokenizer)
        XCTAssertThrowsError(try GRPO(model: model, tokenizer: tokenizer, dataset: dataset,
                                      rewards: try BuiltInRewards.make(config: settings), config: settings)) { error in
            let text = "\(error)"
            XCTAssert(text.hasPrefix("\(file.path):2: the prompt is 1600 tokens; with max_completion_length 8 a sequence needs "
                + "1608 positions, more than max_seq_length (64) (and 1 more row on line 3)"), text)
        }
        var tooLongCompletions = settings
        tooLongCompletions.generation.maxCompletionLength = 1_000
        XCTAssertThrowsError(try GRPO(model: model, tokenizer: tokenizer, dataset: problems(8),
                                      rewards: try BuiltInRewards.make(config: settings), config: tooLongCompletions)) { error in
            XCTAssert("\(error)".contains("max_completion_length is 1000, which leaves no room for a prompt"), "\(error)")
        }
    }
}
