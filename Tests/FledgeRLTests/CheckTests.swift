import XCTest
@testable import FledgeRL

/// One rule of the issue: a config, and the messages and values it must produce.
private struct Case {
    let name: String
    let yaml: String
    var worldSize = 1
    var preset: DefaultsPreset? = nil
    let messages: [Expected]
    var values: [String: ConfigValue] = [:]
}

final class CheckTests: XCTestCase {
    private func run<Config: TrainerConfig>(_ type: Config.Type, _ cases: [Case]) throws {
        for item in cases {
            let resolved = try resolve(type, item.yaml, worldSize: item.worldSize, preset: item.preset)
            assertMessages(resolved.report, item.messages, item.name)
            for (field, expected) in item.values {
                XCTAssert(
                    ConfigResolver.sameValue(value(resolved, field) ?? .null, expected),
                    "\(item.name): \(field) is \(value(resolved, field) ?? .null), expected \(expected)")
            }
        }
    }

    func testTemperature() throws {
        try run(GRPOConfig.self, [
            Case(name: "zero", yaml: "temperature: 0", messages: [.error("temperature", "must be in (0, 10); sampling divides the logits by it")]),
            Case(name: "negative", yaml: "temperature: -1", messages: [.error("temperature", "must be in (0, 10)")]),
            Case(name: "ten", yaml: "temperature: 10", messages: [.error("temperature", "must be in (0, 10)")]),
            Case(name: "low", yaml: "temperature: 0.5", messages: [.note("temperature", "between 0.6 and 1.0")]),
            Case(name: "high", yaml: "temperature: 1.2", messages: [.note("temperature", "between 0.6 and 1.0")]),
            Case(name: "edge low", yaml: "temperature: 0.6", messages: []),
            Case(name: "edge high", yaml: "temperature: 1.0", messages: []),
        ])
        try run(PPOConfig.self, [
            Case(name: "ppo default 0.7", yaml: "", messages: []),
            Case(name: "ppo zero", yaml: "temperature: 0.0", messages: [.error("temperature", "must be in (0, 10)")]),
        ])
    }

    func testLearningRate() throws {
        try run(GRPOConfig.self, [
            Case(name: "tiny", yaml: "learning_rate: 1e-8", messages: [.warning("learning_rate", "too small")]),
            Case(name: "huge", yaml: "learning_rate: 2", messages: [.warning("learning_rate", "far too large")]),
            Case(name: "above RL range", yaml: "learning_rate: 1e-4",
                 messages: [.note("learning_rate", "between 1e-6 and 5e-5 (lower than for SFT)")]),
            Case(name: "below RL range", yaml: "learning_rate: 5e-7", messages: [.note("learning_rate", "between 1e-6")]),
            Case(name: "range bottom", yaml: "learning_rate: 1e-6", messages: []),
            Case(name: "range top (Unsloth default)", yaml: "", messages: [], values: ["learning_rate": .double(5e-5)]),
        ])
        try run(DPOConfig.self, [Case(name: "dpo", yaml: "learning_rate: 1e-4", messages: [.note("learning_rate", "1e-6")])])
        try run(SFTConfig.self, [
            Case(name: "sft has no RL range", yaml: "learning_rate: 2e-4", messages: []),
            Case(name: "sft too small", yaml: "learning_rate: 1e-9", messages: [.warning("learning_rate", "too small")]),
        ])
    }

    func testGRPOBatchGeometry() throws {
        try run(GRPOConfig.self, [
            Case(
                name: "worked example: no change", yaml: """
                    per_device_train_batch_size: 4
                    gradient_accumulation_steps: 2
                    num_generations: 4
                    """, worldSize: 2, messages: [],
                values: ["steps_per_generation": .int(2), "generation_batch_size": .int(16),
                         "per_device_train_batch_size": .int(4)]),
            Case(
                name: "worked example: batch becomes num_generations", yaml: """
                    per_device_train_batch_size: 3
                    gradient_accumulation_steps: 1
                    num_generations: 8
                    """,
                messages: [.change("per_device_train_batch_size", "1 × 1 × 3 = 3 is not a multiple of num_generations (8)")],
                values: ["per_device_train_batch_size": .int(8), "steps_per_generation": .int(1),
                         "generation_batch_size": .int(8)]),
            Case(name: "Unsloth defaults 4 × 2 with 8 generations", yaml: "", messages: [],
                 values: ["generation_batch_size": .int(8), "steps_per_generation": .int(2)]),
            Case(name: "world size counts", yaml: "num_generations: 16", worldSize: 2,
                 messages: [],
                 values: ["generation_batch_size": .int(16)]),
            Case(name: "steps_per_generation given: no Unsloth fix", yaml: """
                    per_device_train_batch_size: 3
                    steps_per_generation: 4
                    num_generations: 6
                    """, messages: [], values: ["generation_batch_size": .int(12), "per_device_train_batch_size": .int(3)]),
            Case(name: "generation_batch_size given", yaml: """
                    per_device_train_batch_size: 2
                    generation_batch_size: 16
                    """, messages: [], values: ["steps_per_generation": .int(8)]),
            Case(name: "both given", yaml: "generation_batch_size: 16\nsteps_per_generation: 2",
                 messages: [.error("steps_per_generation", "not both")]),
            Case(name: "generation batch not divisible by the step batch", yaml: "generation_batch_size: 18",
                 messages: [.error("generation_batch_size", "divisible by per_device_train_batch_size × world_size = 4 × 1 = 4")]),
            Case(name: "generation batch not whole groups", yaml: "steps_per_generation: 3\nnum_generations: 8",
                 messages: [.error("generation_batch_size", "divisible by num_generations (8)")]),
            Case(name: "zero steps per generation", yaml: "steps_per_generation: 0",
                 messages: [.error("steps_per_generation", "must be in [1, 1048576]")]),
            Case(name: "zero eval generations", yaml: "num_generations_eval: 0\neval_strategy: steps",
                 messages: [.error("num_generations_eval", "must be in [1, 1048576]")]),
            Case(name: "one generation", yaml: "num_generations: 1", messages: [.error("num_generations", "must be in [2, 1048576]; advantages compare completions")]),
            Case(name: "eval groups", yaml: "eval_strategy: steps\nper_device_eval_batch_size: 3",
                 messages: [.error("per_device_eval_batch_size", "divisible by the number of generations used for evaluation (8)")]),
            Case(name: "TRL preset: TRL's geometry", yaml: "", preset: .trl, messages: [],
                 values: ["generation_batch_size": .int(8), "steps_per_generation": .int(1)]),
        ])
        try run(RLOOConfig.self, [
            Case(name: "rloo: TRL rule only", yaml: "per_device_train_batch_size: 3\ngradient_accumulation_steps: 1\nnum_generations: 2",
                 messages: [.error("generation_batch_size", "num_generations (2)")]),
        ])
    }

    func testAutoFindBatchSize() throws {
        try run(GRPOConfig.self, [
            Case(name: "grpo", yaml: "auto_find_batch_size: true", messages: [.error("auto_find_batch_size", "split groups")]),
        ])
        try run(SFTConfig.self, [Case(name: "sft allows it", yaml: "auto_find_batch_size: true", messages: [])])
    }

    func testDAPO() throws {
        try run(GRPOConfig.self, [
            Case(name: "dapo sets its settings and warns about beta", yaml: "loss_type: dapo",
                 messages: [
                    .change("mask_truncated_completions", "overlong filtering"),
                    .change("epsilon_high", "clip-higher"),
                    .warning("beta", "the DAPO paper removes the KL term"),
                 ],
                 values: ["mask_truncated_completions": .bool(true), "epsilon_high": .double(0.28)]),
            Case(name: "dapo overrides explicit values, as Unsloth does", yaml: """
                    loss_type: dapo
                    beta: 0
                    epsilon_high: 0.3
                    mask_truncated_completions: false
                    """,
                 messages: [.change("epsilon_high", "clip-higher"), .change("mask_truncated_completions", "overlong filtering")],
                 values: ["epsilon_high": .double(0.28), "mask_truncated_completions": .bool(true)]),
            Case(name: "TRL preset's implicit dapo is TRL's", yaml: "", preset: .trl, messages: [],
                 values: ["loss_type": .string("dapo"), "epsilon_high": .double(0.2), "mask_truncated_completions": .bool(false)]),
        ])
    }

    func testLossTypesAndScaling() throws {
        try run(GRPOConfig.self, [
            Case(name: "case-insensitive", yaml: "loss_type: DR_GRPO", messages: [
                .change("loss_type", "case-insensitively"), .change("scale_rewards", "Dr. GRPO"),
            ], values: ["loss_type": .string("dr_grpo"), "scale_rewards": .string("none")]),
            Case(name: "dr_grpo keeps an explicit scaling", yaml: "loss_type: dr_grpo\nscale_rewards: batch", messages: [],
                 values: ["scale_rewards": .string("batch")]),
            Case(name: "normalize_then_sum does not scale by scale_rewards",
                 yaml: "multi_objective_aggregation: normalize_then_sum\nscale_rewards: none",
                 messages: [.note("scale_rewards", "does not apply with multi_objective_aggregation: normalize_then_sum")],
                 values: ["multi_objective_aggregation": .string("normalize_then_sum")]),
            Case(name: "dr_grpo under TRL keeps group", yaml: "loss_type: dr_grpo", preset: .trl, messages: [],
                 values: ["scale_rewards": .string("group")]),
            Case(name: "unknown loss", yaml: "loss_type: gmpo",
                 messages: [.error("loss_type", "expected one of grpo, bnpo, dr_grpo, dapo, cispo, sapo, luspo, vespo")]),
            Case(name: "cispo without its cap", yaml: "loss_type: cispo",
                 messages: [.warning("epsilon_high", "CISPO caps the importance weight at epsilon_high itself")]),
            Case(name: "cispo with its cap", yaml: "loss_type: cispo\nepsilon_high: 5.0", messages: []),
            Case(name: "luspo with token ratios", yaml: "loss_type: luspo",
                 messages: [.warning("importance_sampling_level", "importance_sampling_level: sequence")]),
            Case(name: "luspo as its paper", yaml: "loss_type: luspo\nimportance_sampling_level: sequence", messages: []),
            Case(name: "vespo with sequence ratios", yaml: "loss_type: vespo\nimportance_sampling_level: sequence",
                 messages: [.warning("importance_sampling_level", "keep importance_sampling_level: token")]),
            Case(name: "sapo", yaml: "loss_type: sapo\nsapo_temperature_pos: 0.9", messages: []),
            Case(name: "sapo temperature zero", yaml: "loss_type: sapo\nsapo_temperature_neg: 0",
                 messages: [.error("sapo_temperature_neg", "must be positive and finite; the SAPO gate divides by it")]),
            Case(name: "entropy quantile out of range", yaml: "top_entropy_quantile: 1.5",
                 messages: [.error("top_entropy_quantile", "must be in [0, 1]")]),
            Case(name: "entropy quantile", yaml: "top_entropy_quantile: 0.2", messages: []),
            Case(name: "delta below the clip", yaml: "delta: 1.1", messages: [.warning("delta", "below the upper clip bound")]),
            Case(name: "delta", yaml: "delta: 4", messages: [], values: ["delta": .double(4)]),
            Case(name: "old boolean true", yaml: "scale_rewards: true", messages: [.change("scale_rewards", "old boolean")],
                 values: ["scale_rewards": .string("group")]),
            Case(name: "old boolean false", yaml: "scale_rewards: false", messages: [.change("scale_rewards", "old boolean")],
                 values: ["scale_rewards": .string("none")]),
            Case(name: "batch scaling", yaml: "scale_rewards: batch", messages: [], values: ["scale_rewards": .string("batch")]),
            Case(name: "epsilon_high follows epsilon", yaml: "epsilon: 0.1", messages: [],
                 values: ["epsilon_high": .double(0.1)]),
            Case(name: "epsilon_high given", yaml: "epsilon: 0.1\nepsilon_high: 0.3", messages: [],
                 values: ["epsilon_high": .double(0.3)]),
            Case(name: "bad scaling", yaml: "scale_rewards: sometimes", messages: [.error("scale_rewards", "group, batch, none")]),
            Case(name: "GSPO with a token-summing loss", yaml: "importance_sampling_level: sequence",
                 messages: [.warning("importance_sampling_level", "'bnpo' loss sums per-token contributions")]),
            Case(name: "GSPO with grpo", yaml: "importance_sampling_level: sequence\nloss_type: grpo", messages: []),
        ])
    }

    func testDPO() throws {
        try run(DPOConfig.self, [
            Case(name: "defaults", yaml: "", messages: [], values: ["beta": .double(0.1), "loss_type": .list([.string("sigmoid")])]),
            Case(name: "beta zero", yaml: "beta: 0", messages: [.error("beta", "must be positive and finite")]),
            Case(name: "exo needs smoothing", yaml: "loss_type: exo_pair", messages: [.error("label_smoothing", "exo_pair")]),
            Case(name: "robust range", yaml: "loss_type: robust\nlabel_smoothing: 0.6",
                 messages: [.warning("label_smoothing", "[0, 0.5)")]),
            Case(name: "smoothing unused", yaml: "label_smoothing: 0.1", messages: [.note("label_smoothing", "ignored")]),
            Case(name: "weights per loss", yaml: "loss_type: [sigmoid, sft]\nloss_weights: [1.0]",
                 messages: [.error("loss_weights", "one weight per loss")]),
            Case(name: "f-divergence", yaml: "loss_type: apo_zero\nf_divergence_type: js_divergence",
                 messages: [.error("f_divergence_type", "reverse_kl")]),
            Case(name: "WPO with aot", yaml: "loss_type: aot\nuse_weighting: true", messages: [.error("use_weighting", "aot")]),
        ])
    }

    func testPPO() throws {
        try run(PPOConfig.self, [
            Case(name: "both stop tokens", yaml: "stop_token: eos\nstop_token_id: 2", messages: [.error("stop_token_id", "not both")]),
            Case(name: "mini-batches", yaml: "num_mini_batches: 3", messages: [.error("num_mini_batches", "= 8) must be a multiple")]),
            Case(name: "mini-batches across processes", yaml: "num_mini_batches: 16", worldSize: 2,
                 messages: [.error("num_mini_batches", "per process")]),
            Case(name: "whitening", yaml: "whiten_rewards: true\nnum_mini_batches: 2",
                 messages: [.error("whiten_rewards", "at least 8 rows")]),
            Case(name: "fine", yaml: "whiten_rewards: true", messages: []),
        ])
    }
}
