import ArgumentParser
import Foundation
import FledgeLM
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
        let resolution = try options.resolve(GRPOConfig.self)
        let config = resolution.config
        let rewards = try BuiltInRewards.make(config: config)
        let model = try TrainingModels.load(config.run, seed: config.training.seed,
                                            gradientCheckpointing: config.training.gradientCheckpointing)
        let tokenizer = try TrainingModels.tokenizer(config.run)
        let dataset = try PromptDataset(
            file: DatasetLocation.trainingFile(config.run.datasetName, split: config.run.datasetTrainSplit), tokenizer: tokenizer)
        // Full fine-tuning with a KL term needs the reference policy as a second, frozen model.
        let reference = config.generation.beta != 0 && !model.hasAdapters
            ? try LanguageModel(directory: URL(fileURLWithPath: config.run.modelNameOrPath!)) : nil
        note("\(dataset.rows.count) prompts from \(dataset.file.path); rewards: \(rewards.map(\.name).joined(separator: ", "))")
        let grpo = try GRPO(model: model, tokenizer: tokenizer, dataset: dataset, rewards: rewards, config: config,
                            reference: reference)
        try TrainingRun(trainer: try Trainer(algorithm: grpo, model: model, arguments: config.training), config: resolution).run()
    }
}
