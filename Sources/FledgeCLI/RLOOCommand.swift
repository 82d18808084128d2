import ArgumentParser
import FledgeRL

/// `fledge rloo --config FILE.yaml`: REINFORCE Leave-One-Out with TRL's `RLOOConfig` fields.
struct RLOOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rloo",
        abstract: "RLOO of a model directory on a JSON Lines dataset of prompts (TRL's RLOOConfig fields).",
        discussion: """
            Rows are {"prompt": text or chat messages, ...other columns for the rewards}. Rewards come from \
            reward_funcs (answer, format, length, soft_overlong, model:DIR …) and reward_command; each completion's \
            advantage is its reward minus the mean of the other num_generations − 1 of its prompt. Checkpoints, \
            metrics.jsonl and the final weights go to output_dir. Ctrl-C saves a checkpoint after the current \
            step and exits with status 130; resume with --set resume_from_checkpoint=true.
            """)

    @OptionGroup var options: TrainingCommandOptions

    func run() throws {
        try TrainingRun<RLOO>.train(options)
    }
}
