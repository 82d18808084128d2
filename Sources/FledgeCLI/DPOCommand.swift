import ArgumentParser
import FledgeRL

/// `fledge dpo --config FILE.yaml`: Direct Preference Optimization with TRL's `DPOConfig` fields.
struct DPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dpo",
        abstract: "Direct Preference Optimization of a model directory on preference pairs (TRL's DPOConfig fields).",
        discussion: """
            Rows are {"prompt", "chosen", "rejected"}, all strings or all chat-message lists. The reference \
            policy is the model with its LoRA adapters switched off (use_peft), or a frozen copy for full \
            fine-tuning; precompute_ref_log_probs computes its log-probs once and caches them in output_dir. \
            Checkpoints, metrics.jsonl and the final weights go to output_dir; Ctrl-C saves a checkpoint after \
            the current step and exits with status 130.
            """)

    @OptionGroup var options: TrainingCommandOptions

    func run() throws {
        try TrainingRun<DPO>.train(options)
    }
}
