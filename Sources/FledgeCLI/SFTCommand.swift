import ArgumentParser
import Foundation
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
        try ProcessGroupRun.run(train)
    }

    private func train(communicator: any Communicator) throws {
        let resolution = try options.resolve(SFTConfig.self, worldSize: communicator.size)
        let config = resolution.config
        let model = try TrainingModels.load(config.run, seed: config.training.seed,
                                            gradientCheckpointing: config.training.checkpointsGradients,
                                            checkpointingMemoryBudget: config.training.checkpointingMemoryBudget)
        let tokenizer = try config.preparedTokenizer(TrainingModels.tokenizer(config.run))
        let train = try SFTDataset(split: config.run.trainingSplit(), tokenizer: tokenizer, config: config)
        let evaluation = try evaluationSplit(config.run, config.training).map {
            try SFTDataset(split: $0, tokenizer: tokenizer, config: config, evaluation: true)
        }
        let rows = config.packing ? "packed rows (\(config.packingStrategy.rawValue), \(config.maxLength ?? 0) tokens) of \(train.format.rawValue) examples"
            : "\(train.format.rawValue) examples"
        note("\(train.sequences.count) \(rows) from \(train.source)"
            + (train.droppedCount > 0 ? " (\(train.droppedCount) dropped: no trained token left after max_length)" : "")
            + (evaluation.map { ", \($0.sequences.count) for evaluation" } ?? ""))
        let sft = try SFT(model: model, train: train, evaluation: evaluation, config: config, communicator: communicator)
        try TrainingRun(trainer: try Trainer(algorithm: sft, model: model, arguments: config.training), config: resolution).run()
    }
}
