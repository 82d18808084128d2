import ArgumentParser
import FledgeRL

/// `fledge distill --config FILE.yaml`: on-policy distillation with TRL's `DistillationConfig` fields.
struct DistillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distill",
        abstract: "On-policy distillation of a teacher into a model directory on a JSON Lines dataset of prompts (TRL's DistillationConfig fields).",
        discussion: """
            Rows are {"prompt": text or chat messages}. Each step the student samples one completion per prompt and \
            learns the teacher's (teacher_model_name_or_path, same vocabulary) next-token distributions on it under \
            the generalized JSD: beta 0 is the forward KL, 1 the reverse KL. Checkpoints, metrics.jsonl and the final \
            weights go to output_dir. Ctrl-C saves a checkpoint after the current step and exits with status 130; \
            resume with --set resume_from_checkpoint=true.
            """)

    @OptionGroup var options: TrainingCommandOptions

    func run() throws {
        try ProcessGroupRun.run { try TrainingRun<Distillation>.train(options, communicator: $0) }
    }
}
