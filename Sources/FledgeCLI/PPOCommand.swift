import ArgumentParser
import FledgeRL

/// `fledge ppo --config FILE.yaml`: Proximal Policy Optimization with TRL's `PPOConfig` fields.
struct PPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ppo",
        abstract: "PPO of a model directory on prompts, with a value model and a reward (TRL's PPOConfig fields).",
        discussion: """
            Rows are {"prompt"} (text or chat messages) plus any columns the rewards read. The score comes from \
            reward_model_path (a sequence classifier sharing the policy's tokenizer, which also initialises the \
            value model) or from reward_funcs/reward_command (the value model then starts from the policy with a \
            new score head). The reference policy is the model with its LoRA adapters off, or a frozen copy. \
            Checkpoints, metrics.jsonl and the final weights (value model: value_model.safetensors) go to \
            output_dir; Ctrl-C saves a checkpoint after the current step and exits with status 130.
            """)

    @OptionGroup var options: TrainingCommandOptions

    func run() throws {
        try TrainingRun<PPO>.train(options)
    }
}
