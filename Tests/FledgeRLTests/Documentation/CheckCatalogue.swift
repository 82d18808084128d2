import Foundation
@testable import FledgeRL

/// The checks section of `docs/configuration.md`: for each rule, a small config that triggers it and
/// what the resolver actually says about it.
enum CheckCatalogue {
    /// One rule and a config that breaks it.
    struct Trigger {
        let section: String
        let rule: String
        let trainer: TrainerKind
        let yaml: String
        var worldSize = 1
    }

    /// Stands for a model directory in triggers; replaced by a real one while resolving.
    static let modelPlaceholder = "models/my-model"

    static let triggers: [Trigger] = [
        Trigger(section: "Every trainer", rule: "learning rate not positive (its range)", trainer: .sft,
                yaml: "learning_rate: -1e-5"),
        Trigger(section: "Every trainer", rule: "learning rate below 1e-7", trainer: .sft, yaml: "learning_rate: 1e-8"),
        Trigger(section: "Every trainer", rule: "learning rate above 1", trainer: .sft, yaml: "learning_rate: 3"),
        Trigger(section: "Every trainer", rule: "RL learning rate outside 1e-6 … 5e-5 (not SFT)", trainer: .grpo,
                yaml: "learning_rate: 2e-4"),
        Trigger(section: "Every trainer", rule: "`max_seq_length` capped to the model's `max_position_embeddings` "
                + "(and taken from it when unset)", trainer: .sft,
                yaml: "model_name_or_path: \(modelPlaceholder)\nmax_seq_length: 8192"),
        Trigger(section: "Sampling (GRPO, RLOO, PPO)", rule: "temperature not positive (its range)", trainer: .grpo,
                yaml: "temperature: 0"),
        Trigger(section: "Sampling (GRPO, RLOO, PPO)", rule: "temperature 10 or more (its range)", trainer: .ppo,
                yaml: "temperature: 12"),
        Trigger(section: "Sampling (GRPO, RLOO, PPO)", rule: "temperature outside 0.6 … 1.0", trainer: .grpo,
                yaml: "temperature: 1.3"),
        Trigger(section: "Sampling (GRPO, RLOO, PPO)", rule: "a completion that leaves the prompt no room in `max_seq_length` "
                + "(here from the model)", trainer: .grpo,
                yaml: "model_name_or_path: \(modelPlaceholder)\nmax_completion_length: 4096"),
        Trigger(section: "Batch geometry (GRPO, RLOO)", rule: "halving the batch on out-of-memory", trainer: .grpo,
                yaml: "auto_find_batch_size: true"),
        Trigger(section: "Batch geometry (GRPO, RLOO)", rule: "fewer than 2 generations (the range of `num_generations`)",
                trainer: .grpo, yaml: "num_generations: 1"),
        Trigger(section: "Batch geometry (GRPO, RLOO)", rule: "a count below 1 (its range)", trainer: .rloo,
                yaml: "gradient_accumulation_steps: 0"),
        Trigger(section: "Batch geometry (GRPO, RLOO)", rule: "GRPO (Unsloth's fix, either preset): the global batch is not a "
                + "multiple of `num_generations`", trainer: .grpo,
                yaml: "per_device_train_batch_size: 3\ngradient_accumulation_steps: 1"),
        Trigger(section: "Batch geometry (GRPO, RLOO)", rule: "RLOO (TRL's rule): the same", trainer: .rloo,
                yaml: "per_device_train_batch_size: 3\ngradient_accumulation_steps: 1"),
        Trigger(section: "Batch geometry (GRPO, RLOO)", rule: "`generation_batch_size` not a multiple of the batch per step",
                trainer: .grpo, yaml: "generation_batch_size: 10"),
        Trigger(section: "Batch geometry (GRPO, RLOO)", rule: "`generation_batch_size` and `steps_per_generation` both set",
                trainer: .grpo, yaml: "generation_batch_size: 16\nsteps_per_generation: 4"),
        Trigger(section: "Batch geometry (GRPO, RLOO)", rule: "evaluation batch not a multiple of the generations",
                trainer: .grpo, yaml: "eval_strategy: steps\nper_device_eval_batch_size: 3"),
        Trigger(section: "GRPO losses", rule: "Dr. GRPO under `defaults: unsloth` without `scale_rewards`", trainer: .grpo,
                yaml: "loss_type: dr_grpo"),
        Trigger(section: "GRPO losses", rule: "`loss_type: dapo` written in the config", trainer: .grpo, yaml: "loss_type: dapo"),
        Trigger(section: "GRPO losses", rule: "sequence-level ratios with a loss that sums tokens", trainer: .grpo,
                yaml: "loss_type: bnpo\nimportance_sampling_level: sequence"),
        Trigger(section: "GRPO losses", rule: "LUSPO with token-level ratios", trainer: .grpo, yaml: "loss_type: luspo"),
        Trigger(section: "GRPO losses", rule: "VESPO with sequence-level ratios", trainer: .grpo,
                yaml: "loss_type: vespo\nimportance_sampling_level: sequence"),
        Trigger(section: "GRPO losses", rule: "`top_entropy_quantile` outside 0 … 1 (its range)", trainer: .grpo,
                yaml: "top_entropy_quantile: 1.5"),
        Trigger(section: "GRPO losses", rule: "a SAPO temperature that is not positive (its range)", trainer: .grpo,
                yaml: "sapo_temperature_neg: 0"),
        Trigger(section: "GRPO losses", rule: "CISPO without its own `epsilon_high`", trainer: .grpo, yaml: "loss_type: cispo"),
        Trigger(section: "GRPO losses", rule: "`delta` at or below the upper clip bound", trainer: .grpo, yaml: "delta: 1.1"),
        Trigger(section: "PPO", rule: "both stop settings", trainer: .ppo, yaml: "stop_token: eos\nstop_token_id: 2"),
        Trigger(section: "PPO", rule: "a negative EOS penalty", trainer: .ppo, yaml: "missing_eos_penalty: -1"),
        Trigger(section: "PPO", rule: "`num_mini_batches` below 1 (its range)", trainer: .ppo, yaml: "num_mini_batches: 0"),
        Trigger(section: "PPO", rule: "the global batch does not split into the mini-batches", trainer: .ppo,
                yaml: "num_mini_batches: 3"),
        Trigger(section: "PPO", rule: "the batch per process does not split into the mini-batches", trainer: .ppo,
                yaml: "num_mini_batches: 3", worldSize: 3),
        Trigger(section: "PPO", rule: "whitening with fewer than 8 rows per mini-batch", trainer: .ppo,
                yaml: "whiten_rewards: true\nnum_mini_batches: 2"),
        Trigger(section: "DPO", rule: "`beta` not positive (its range)", trainer: .dpo, yaml: "beta: 0"),
        Trigger(section: "DPO", rule: "one weight per loss", trainer: .dpo, yaml: "loss_type: [sigmoid, sft]\nloss_weights: [1.0]"),
        Trigger(section: "DPO", rule: "EXO without label smoothing", trainer: .dpo, yaml: "loss_type: exo_pair"),
        Trigger(section: "DPO", rule: "robust DPO with label smoothing of 0.5 or more", trainer: .dpo,
                yaml: "loss_type: robust\nlabel_smoothing: 0.5"),
        Trigger(section: "DPO", rule: "label smoothing that no chosen loss reads", trainer: .dpo, yaml: "label_smoothing: 0.1"),
        Trigger(section: "DPO", rule: "an f-divergence the loss does not support", trainer: .dpo,
                yaml: "loss_type: bco_pair\nf_divergence_type: forward_kl"),
        Trigger(section: "DPO", rule: "WPO weighting with AOT", trainer: .dpo, yaml: "loss_type: aot\nuse_weighting: true"),
        Trigger(section: "DPO", rule: "deprecated truncation", trainer: .dpo, yaml: "truncation_mode: keep_end"),
        Trigger(section: "RLOO", rule: "`reward_clip_range` that is not a pair", trainer: .rloo, yaml: "reward_clip_range: [1]"),
        Trigger(section: "RLOO", rule: "`reward_clip_range` with its minimum above its maximum", trainer: .rloo,
                yaml: "reward_clip_range: [1, -1]"),
        Trigger(section: "KTO", rule: "the kto loss with another sampling order", trainer: .kto,
                yaml: "train_sampling_strategy: random"),
        Trigger(section: "KTO", rule: "the kto loss with one row per micro-batch", trainer: .kto,
                yaml: "per_device_train_batch_size: 1"),
        Trigger(section: "Distillation", rule: "`max_tool_calling_iterations` without tools", trainer: .distill,
                yaml: "max_tool_calling_iterations: 2"),
        Trigger(section: "Distillation", rule: "an environment (TRL's DistillationTrainer takes tools only)", trainer: .distill,
                yaml: "tools: [calculator]\nenvironment_command: ./environment.sh"),
        Trigger(section: "Names and values", rule: "a misspelled field", trainer: .grpo, yaml: "learnig_rate: 1e-5"),
        Trigger(section: "Names and values", rule: "another trainer's field", trainer: .grpo, yaml: "label_smoothing: 0.1"),
        Trigger(section: "Names and values", rule: "a value of the wrong type", trainer: .grpo, yaml: "num_generations: eight"),
        Trigger(section: "Names and values", rule: "a value outside the field's range", trainer: .grpo, yaml: "top_p: 2"),
        Trigger(section: "Names and values", rule: "NaN (outside every range)", trainer: .sft, yaml: "max_grad_norm: .nan"),
        Trigger(section: "Names and values", rule: "a list item outside the range", trainer: .grpo, yaml: "reward_weights: [1, .inf]"),
        Trigger(section: "Names and values", rule: "a derived value outside its range", trainer: .grpo,
                yaml: "per_device_train_batch_size: 1048576\ngradient_accumulation_steps: 1048576"),
        Trigger(section: "Names and values", rule: "a name in other capitals", trainer: .sft, yaml: "lr_scheduler_type: Cosine"),
        Trigger(section: "Names and values", rule: "TRL's old boolean `scale_rewards`", trainer: .grpo, yaml: "scale_rewards: false"),
        Trigger(section: "Names and values", rule: "a file for another trainer", trainer: .grpo, yaml: "trainer: dpo"),
        Trigger(section: "Names and values", rule: "an unknown preset", trainer: .grpo, yaml: "defaults: fast"),
        Trigger(section: "Names and values", rule: "no processes", trainer: .grpo, yaml: "", worldSize: 0),
        Trigger(section: "Names and values", rule: "more processes than 2^20", trainer: .grpo, yaml: "", worldSize: 1 << 62),
    ]

    /// The messages each trigger draws, resolved with the model placeholder pointing at a real
    /// directory whose `config.json` says `max_position_embeddings: 4096`.
    static func markdown() throws -> String {
        let model = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-doc-model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: model) }
        try #"{"max_position_embeddings": 4096}"#.write(
            to: model.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)

        var lines: [String] = []
        for (index, trigger) in triggers.enumerated() {
            if index == 0 || triggers[index - 1].section != trigger.section {
                if index > 0 { lines.append("") }
                lines += ["### \(trigger.section)", "", "| rule | config | Fledge says |", "|---|---|---|"]
            }
            let yaml = trigger.yaml.replacingOccurrences(of: modelPlaceholder, with: model.path)
            let resolved = ConfigResolver.resolve(
                try ConfigDocument(yaml: yaml, source: "example"),
                options: ConfigOptions(trainer: trigger.trainer, worldSize: trigger.worldSize))
            guard !resolved.report.messages.isEmpty else { throw SilentTrigger(rule: trigger.rule) }
            let said = resolved.report.messages.map { render($0).replacingOccurrences(of: model.path, with: modelPlaceholder) }
            var config = trigger.yaml.split(separator: "\n").map { "`\($0)`" }
            let names = trigger.yaml.hasPrefix("trainer:") ? "checked with `--trainer \(trigger.trainer.rawValue)`"
                : "`trainer: \(trigger.trainer.rawValue)`"
            config.insert(names, at: 0)
            if trigger.worldSize != 1 { config.append("world size \(trigger.worldSize)") }
            lines.append("| \(trigger.rule) | \(config.joined(separator: "<br>")) | \(said.joined(separator: "<br>")) |")
        }
        return lines.joined(separator: "\n")
    }

    /// One message: its kind, the field and value (and new value), and the text.
    static func render(_ message: ConfigMessage) -> String {
        let subject = message.newValue.map { "\(message.field): \(message.value.yaml) → \($0.yaml)" }
            ?? "\(message.field) = \(message.value.yaml)"
        return "**\(message.kind.rawValue)** `\(subject)`: \(message.text.replacingOccurrences(of: "|", with: "\\|"))"
    }
}

/// A trigger that draws no message, so the catalogue would document a rule that no longer fires.
struct SilentTrigger: Error, CustomStringConvertible {
    let rule: String
    var description: String { "the example config for '\(rule)' draws no message; update it or remove the rule" }
}
