import ArgumentParser
import FledgeRL

/// `fledge reward --config FILE.yaml`: reward modelling with TRL's `RewardConfig` fields.
struct RewardModelingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reward",
        abstract: "Train a reward model (a sequence classifier) on preference pairs (TRL's RewardConfig fields).",
        discussion: """
            Rows are {"chosen", "rejected"} with an optional "prompt" (all strings or all chat-message lists) and an \
            optional numeric "margin", or {"chosen_ids", "rejected_ids"}. A causal LM gets a new one-label score head; \
            the loss is -log sigmoid(r_chosen - r_rejected - margin). Checkpoints, metrics.jsonl and the final weights go \
            to output_dir: a sequence-classification model directory, or with use_peft a PEFT adapter with the trained \
            score head (fledge export --model BASE --adapter OUTPUT_DIR merges it into one). Either loads as \
            reward_funcs: [model:DIR] and as PPO's reward_model_path. Ctrl-C saves a checkpoint after the current step \
            and exits with status 130.
            """)

    @OptionGroup var options: TrainingCommandOptions

    func run() throws {
        try ProcessGroupRun.run { try TrainingRun<RewardModeling>.train(options, communicator: $0) }
    }
}
