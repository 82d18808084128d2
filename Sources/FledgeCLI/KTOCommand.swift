import ArgumentParser
import FledgeRL

/// `fledge kto --config FILE.yaml`: Kahneman–Tversky Optimization with TRL's `KTOConfig` fields.
struct KTOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kto",
        abstract: "Kahneman-Tversky Optimization of a model directory on labelled completions (TRL's KTOConfig fields).",
        discussion: """
            Rows are {"prompt", "completion", "label"}: strings or chat-message lists, and label true for a \
            desirable completion, false for an undesirable one; no pairs needed. The reference policy is the \
            model with its LoRA adapters switched off (use_peft), or a frozen copy for full fine-tuning; \
            precompute_ref_log_probs computes its log-probs once and caches them in output_dir. The kto loss \
            estimates its KL term from each prompt with another row's completion in the same batch, so rows are \
            trained in file order (train_sampling_strategy: sequential). Checkpoints, metrics.jsonl and the \
            final weights go to output_dir; Ctrl-C saves a checkpoint after the current step and exits with \
            status 130.
            """)

    @OptionGroup var options: TrainingCommandOptions

    func run() throws {
        try ProcessGroupRun.run { try TrainingRun<KTO>.train(options, communicator: $0) }
    }
}
