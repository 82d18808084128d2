import ArgumentParser
import FledgeRL

/// `fledge grpo --config FILE.yaml`: GRPO and its loss variants with TRL's `GRPOConfig` fields.
struct GRPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpo",
        abstract: "GRPO (and DAPO, Dr. GRPO, GSPO …) of a model directory on a JSON Lines dataset of prompts (TRL's GRPOConfig fields).",
        discussion: """
            Rows are {"prompt": text or chat messages, ...other columns for the rewards}. Rewards come from \
            reward_funcs (answer, format, length, soft_overlong, model:DIR …) and reward_command. Checkpoints, \
            metrics.jsonl and the final weights go to output_dir. Ctrl-C saves a checkpoint after the current \
            step and exits with status 130; resume with --set resume_from_checkpoint=true.
            """)

    @OptionGroup var options: TrainingCommandOptions

    func run() throws {
        try ProcessGroupRun.run { try TrainingRun<GRPO>.train(options, communicator: $0) }
    }
}
