import FledgeLM
import FledgeNN
import XCTest
@testable import FledgeRL

/// `skip_zero_signal_rows`: leaving zero-advantage rows (and rows out of the loss) out of the
/// forward and backward gives the update of running them — the weights after two AdamW steps on one
/// generation round (the second off-policy) agree within 1e-6 with `never` — for every GRPO loss
/// type and RLOO, with LoRA and full fine-tuning, while `frac_skipped_rows` shows rows were skipped.
/// `share_prompt_in_training` (on in these runs) is checked against running every row whole with
/// plain SGD, whose update is the gradient itself: AdamW's first steps move each weight by about
/// ±learning rate whatever the gradient's size, so rounding-level differences in near-zero gradients
/// would show as large ones.
/// Grouping a round's rows by prompt in micro-batches is checked the same way against TRL's
/// shuffled order. (Not bit for bit: the weight gradients sum over fewer tokens, so GEMM blocks add
/// in another order.)
final class ZeroSignalRowsTests: TemporaryDirectoryTestCase {
    private var runs = 0

    /// A config of `Config` on the demo model with `fields` (TRL names) over small defaults; the tests score
    /// with ``HalfConstantReward``, so that a round has groups of zero advantage beside groups without.
    private func config<Config: TrainerConfig>(_ type: Config.Type, _ fields: [String: String]) throws -> Config {
        runs += 1
        var settings = [
            "model_name_or_path": GRPOTrainingTests.modelDirectory.path, "output_dir": directory.path + "/run\(runs)",
            "use_peft": "true", "lora_target_modules": "all-linear", "reward_funcs": "[answer]",
            "per_device_train_batch_size": "8", "gradient_accumulation_steps": "2", "num_generations": "4",
            "max_completion_length": "5", "learning_rate": "0.003", "logging_steps": "1", "save_strategy": "\"no\"",
            "gradient_checkpointing": "false", "max_steps": "2", "num_iterations": "2", "beta": "0", "weight_decay": "0.01",
            "lora_dropout": "0", "warmup_ratio": "0", "optim": "adamw_torch",
        ]
        settings.merge(fields) { $1 }
        let resolved = try resolve(type, settings.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "\n"))
        XCTAssert(resolved.report.isUsable, "\(resolved.report.messages)")
        return resolved.config
    }

    private func problems(_ tokenizer: Tokenizer) -> PromptDataset {
        let rows = ArithmeticTask().problems(count: 16, seed: 5).map { problem in
            PromptDataset.Row(prompt: .string(problem.prompt), promptIds: tokenizer.encode(problem.prompt, addSpecialTokens: true),
                              columns: JSONObject([("answer", .string(problem.answer))]))
        }
        return PromptDataset(rows: rows, file: URL(fileURLWithPath: "(problems)"))
    }

    /// Trains `config` and returns the trained parameters by name and the logged `frac_skipped_rows`.
    private func trainGRPO(_ config: GRPOConfig, rewards: [any RewardFunction]? = nil) throws -> (weights: [String: [Float]], skipped: [Double]) {
        let model = try TrainingModels.load(config.run, seed: config.training.seed, gradientCheckpointing: false)
        let tokenizer = try TrainingModels.tokenizer(config.run)
        let grpo = try GRPO(model: model, tokenizer: tokenizer, dataset: problems(tokenizer),
                            rewards: rewards ?? [HalfConstantReward()], config: config)
        return try train(grpo, model: model, arguments: config.training)
    }

    private func trainRLOO(_ config: RLOOConfig) throws -> (weights: [String: [Float]], skipped: [Double]) {
        let model = try TrainingModels.load(config.run, seed: config.training.seed, gradientCheckpointing: false)
        let tokenizer = try TrainingModels.tokenizer(config.run)
        let rloo = try RLOO(model: model, tokenizer: tokenizer, dataset: problems(tokenizer),
                            rewards: [HalfConstantReward()], config: config)
        return try train(rloo, model: model, arguments: config.training)
    }

    private func train<Algorithm: TrainingAlgorithm>(_ algorithm: Algorithm, model: LanguageModel,
                                                     arguments: TrainingArguments) throws -> (weights: [String: [Float]], skipped: [Double]) {
        let records = try Trainer(algorithm: algorithm, model: model, arguments: arguments).train().state.logHistory
        let weights = Dictionary(uniqueKeysWithValues: model.trainableParameters.map { ($0.name, $0.tensor.toArray()) })
        return (weights, records.compactMap { $0["frac_skipped_rows"] })
    }

    /// The largest difference between two runs' weights, relative to the weight's magnitude (at least 1).
    private func largestDifference(_ a: [String: [Float]], _ b: [String: [Float]]) -> (difference: Float, changed: Bool) {
        XCTAssertEqual(Set(a.keys), Set(b.keys))
        var largest: Float = 0, changed = false
        for (name, values) in a {
            guard let other = b[name], other.count == values.count else {
                XCTFail("\(name) differs in shape")
                continue
            }
            for (x, y) in zip(values, other) {
                largest = max(largest, abs(x - y) / max(1, abs(x)))
                changed = changed || x != y
            }
        }
        return (largest, changed)
    }

    func testSkippingGivesTheUpdateOfRunningEveryGRPORow() throws {
        for lossType in ["grpo", "bnpo", "dr_grpo", "dapo", "cispo", "sapo", "luspo", "vespo"] {
            for peft in ["true", "false"] {
                // num_iterations 2: both steps train on the first round, the second off-policy (old log-probs).
                var fields = ["loss_type": lossType, "use_peft": peft]
                if lossType == "luspo" || lossType == "vespo" { fields["importance_sampling_level"] = "sequence" }
                if lossType == "dapo" { fields["mask_truncated_completions"] = "true" }
                let skipping = try trainGRPO(try config(GRPOConfig.self, fields.merging(["skip_zero_signal_rows": "exact"]) { $1 }))
                let running = try trainGRPO(try config(GRPOConfig.self, fields.merging(["skip_zero_signal_rows": "never"]) { $1 }))
                let label = "\(lossType), use_peft \(peft)"
                XCTAssertGreaterThan(skipping.skipped.max() ?? 0, 0, "\(label): no row was skipped")
                XCTAssertEqual(running.skipped.max(), 0, label)
                let (difference, _) = largestDifference(skipping.weights, running.weights)
                XCTAssertLessThanOrEqual(difference, 1e-6, label)
            }
        }
    }

    func testSkippingGivesTheUpdateOfRunningEveryRLOORow() throws {
        for peft in ["true", "false"] {
            // RLOO's KL is in the reward, so beta ≠ 0 still skips zero-advantage rows exactly.
            let fields = ["use_peft": peft, "beta": peft == "true" ? "0.05" : "0"]
            let skipping = try trainRLOO(try config(RLOOConfig.self, fields.merging(["skip_zero_signal_rows": "exact"]) { $1 }))
            let running = try trainRLOO(try config(RLOOConfig.self, fields.merging(["skip_zero_signal_rows": "never"]) { $1 }))
            XCTAssertGreaterThan(skipping.skipped.max() ?? 0, 0, "use_peft \(peft): no row was skipped")
            let (difference, _) = largestDifference(skipping.weights, running.weights)
            XCTAssertLessThanOrEqual(difference, 1e-6, "use_peft \(peft)")
        }
    }

    func testSharedPromptTrainingGivesTheUpdateOfRunningEveryRowWhole() throws {
        for lossType in ["grpo", "dapo"] {
            for peft in ["true", "false"] {
                let fields = ["loss_type": lossType, "use_peft": peft, "optim": "sgd", "skip_zero_signal_rows": "never"]
                let sharing = try trainGRPO(try config(GRPOConfig.self, fields.merging(["share_prompt_in_training": "true"]) { $1 }))
                let whole = try trainGRPO(try config(GRPOConfig.self, fields.merging(["share_prompt_in_training": "false"]) { $1 }))
                XCTAssertLessThanOrEqual(largestDifference(sharing.weights, whole.weights).difference, 1e-6, "\(lossType), use_peft \(peft)")
            }
        }
    }

    /// With `share_prompt_in_training` and on-policy whole-round steps, micro-batches take a round's
    /// rows grouped by prompt (two prompts of four completions per micro-batch of eight here, where
    /// TRL's shuffle mixes the round's four prompts); the loss types whose normalisers do not depend
    /// on which rows share a micro-batch then give TRL's update (rows run whole, in shuffled order).
    func testGroupingRowsByPromptGivesTheUpdateOfTRLsOrder() throws {
        let onPolicy = ["num_iterations": "1", "optim": "sgd", "skip_zero_signal_rows": "never"]
        for (lossType, peft) in [("dapo", "true"), ("dapo", "false"), ("grpo", "true"), ("dr_grpo", "true"), ("luspo", "true")] {
            var fields = onPolicy.merging(["loss_type": lossType, "use_peft": peft]) { $1 }
            if lossType == "luspo" { fields["importance_sampling_level"] = "sequence" }
            let label = "\(lossType), use_peft \(peft)"
            let grouped = try config(GRPOConfig.self, fields.merging(["share_prompt_in_training": "true"]) { $1 })
            let shuffled = try config(GRPOConfig.self, fields.merging(["share_prompt_in_training": "false"]) { $1 })
            XCTAssertEqual(try promptsPerMicroBatch(grouped), [2, 2], label)
            XCTAssertGreaterThan(try promptsPerMicroBatch(shuffled).max() ?? 0, 2, "\(label): TRL's shuffle did not mix prompts")
            let difference = largestDifference(try trainGRPO(grouped).weights, try trainGRPO(shuffled).weights).difference
            XCTAssertLessThanOrEqual(difference, 1e-6, label)
        }
        let fields = ["num_iterations": "1", "optim": "sgd", "skip_zero_signal_rows": "never", "beta": "0"]
        let grouped = try trainRLOO(try config(RLOOConfig.self, fields.merging(["share_prompt_in_training": "true"]) { $1 }))
        let shuffled = try trainRLOO(try config(RLOOConfig.self, fields.merging(["share_prompt_in_training": "false"]) { $1 }))
        XCTAssertLessThanOrEqual(largestDifference(grouped.weights, shuffled.weights).difference, 1e-6, "rloo")
    }

    /// Rows stay in TRL's shuffled order wherever grouping could change the update: `bnpo` (the
    /// micro-batch's tokens normalise it), an entropy-mask quantile over the micro-batch, steps that
    /// split a round (off-policy micro-steps), LoRA dropout, or prompts not shared in training.
    func testGroupingOnlyWhereTheUpdateCannotChange() throws {
        func groups(_ fields: [String: String], dropout: Bool = false) throws -> Bool {
            let resolved = try config(GRPOConfig.self, ["num_iterations": "1"].merging(fields) { $1 })
            return GenerationRounds.groupsRowsByPrompt(
                generation: resolved.generation, training: resolved.training,
                lossIsRowSeparable: GRPO.lossIsRowSeparable(GRPOLossSettings(config: resolved)), drawsDropout: dropout)
        }
        XCTAssertTrue(try groups(["loss_type": "dapo"]))
        XCTAssertTrue(try groups(["loss_type": "grpo", "gradient_accumulation_steps": "4", "steps_per_generation": "2"]))
        XCTAssertFalse(try groups(["loss_type": "bnpo"]))
        XCTAssertFalse(try groups(["loss_type": "dapo", "top_entropy_quantile": "0.5"]))
        XCTAssertFalse(try groups(["loss_type": "dapo", "num_iterations": "2"]))
        XCTAssertFalse(try groups(["loss_type": "dapo", "gradient_accumulation_steps": "2", "steps_per_generation": "4"]))
        XCTAssertFalse(try groups(["loss_type": "dapo"], dropout: true))
        XCTAssertFalse(try groups(["loss_type": "dapo", "share_prompt_in_training": "false"]))
    }

    /// The distinct prompts of each micro-batch of `config`'s first step.
    private func promptsPerMicroBatch(_ config: GRPOConfig) throws -> [Int] {
        let model = try TrainingModels.load(config.run, seed: config.training.seed, gradientCheckpointing: false)
        let tokenizer = try TrainingModels.tokenizer(config.run)
        let grpo = try GRPO(model: model, tokenizer: tokenizer, dataset: problems(tokenizer),
                            rewards: try BuiltInRewards.make(config: config), config: config)
        let step = StepPosition(step: 0, epoch: 0, microBatches: 0..<config.training.gradientAccumulationSteps)
        return try grpo.microBatches(for: step).map { Set($0.completions.map(\.promptIds)).count }
    }

    /// A round whose every group scored the same skips every row: the trainer then gives the weights
    /// zero gradients, so AdamW still applies its weight decay as after running the rows.
    func testAllSkippedStepStillDecaysWeights() throws {
        for peft in ["true", "false"] {
            let fields = ["use_peft": peft, "learning_rate": "0.1", "weight_decay": "0.1"]
            let skipping = try trainGRPO(try config(GRPOConfig.self, fields.merging(["skip_zero_signal_rows": "exact"]) { $1 }),
                                         rewards: [ConstantReward()])
            let running = try trainGRPO(try config(GRPOConfig.self, fields.merging(["skip_zero_signal_rows": "never"]) { $1 }),
                                        rewards: [ConstantReward()])
            XCTAssertEqual(skipping.skipped, [1, 1], "use_peft \(peft)")
            let (difference, _) = largestDifference(skipping.weights, running.weights)
            XCTAssertLessThanOrEqual(difference, 1e-6, "use_peft \(peft)")
            let settings = try config(GRPOConfig.self, fields)
            let untrained = try TrainingModels.load(settings.run, seed: settings.training.seed, gradientCheckpointing: false)
            let initial = Dictionary(uniqueKeysWithValues: untrained.trainableParameters.map { ($0.name, $0.tensor.toArray()) })
            XCTAssertTrue(largestDifference(initial, skipping.weights).changed, "use_peft \(peft): weight decay did not apply")
        }
    }

    /// With a KL term a zero-advantage row still pulls towards the reference, so `exact` runs it;
    /// `always` skips it (a departure from TRL) and the update changes.
    func testKLTermKeepsRowsUnlessAlwaysIsAsked() throws {
        // A large KL weight and learning rate, so the second step's KL gradient moves the weights visibly.
        let fields = ["beta": "1", "learning_rate": "0.05"]
        let exact = try trainGRPO(try config(GRPOConfig.self, fields.merging(["skip_zero_signal_rows": "exact"]) { $1 }))
        XCTAssertEqual(exact.skipped.max(), 0)
        let always = try trainGRPO(try config(GRPOConfig.self, fields.merging(["skip_zero_signal_rows": "always"]) { $1 }))
        XCTAssertGreaterThan(always.skipped.max() ?? 0, 0)
        XCTAssertGreaterThan(largestDifference(exact.weights, always.weights).difference, 1e-5)
    }

    /// The entropy mask's quantile reads every row's entropies, so no zero-advantage row is skipped.
    func testEntropyMaskKeepsRows() throws {
        let masked = try trainGRPO(try config(GRPOConfig.self, ["top_entropy_quantile": "0.5", "skip_zero_signal_rows": "always",
                                                                 "beta": "0.04"]))
        XCTAssertEqual(masked.skipped.max(), 0)
    }
}

/// 0 for every completion of a prompt whose answer is even (a group of zero advantage, whatever was sampled), and a
/// value spread by the completion's tokens otherwise (a group whose rewards differ). Which prompts a round holds is
/// a function of the seed alone, so the mix does not depend on the host's arithmetic.
private struct HalfConstantReward: RewardFunction {
    let name = "half_constant"

    func score(_ samples: [RewardSample]) throws -> [Double?] {
        samples.map { sample in
            guard let answer = sample.columns["answer"]?.stringValue.flatMap({ Int($0) }), answer % 2 != 0 else { return 0 }
            return Double(sample.completionIds.reduce(0) { ($0 &* 31 &+ $1) % 1009 }) / 1009
        }
    }
}

/// The same reward for every completion: every advantage is 0.
private struct ConstantReward: RewardFunction {
    let name = "constant"

    func score(_ samples: [RewardSample]) throws -> [Double?] { samples.map { _ in 1 } }
}
