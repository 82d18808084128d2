import ArgumentParser
import FledgeRL

/// `fledge sft --config FILE.yaml`: supervised fine-tuning with TRL's `SFTConfig` fields.
struct SFTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sft",
        abstract: "Supervised fine-tuning of a model directory on a JSON Lines dataset (TRL's SFTConfig fields).",
        discussion: """
            Rows are {"text"}, {"prompt", "completion"} (strings or message lists) or {"messages"}. \
            Checkpoints, metrics.jsonl and the final weights go to output_dir. Ctrl-C saves a checkpoint \
            after the current step and exits with status 130; resume with --set resume_from_checkpoint=true.
            """)

    @OptionGroup var options: TrainingCommandOptions

    func run() throws {
        try ProcessGroupRun.run { try TrainingRun<SFT>.train(options, communicator: $0) }
    }
}
