import Foundation
import FledgeLM
import FledgeRL

/// What the GRPO and RLOO commands load from a resolved config: the rewards, the model (LoRA or
/// full), its tokenizer, the prompts, and the frozen reference model that full fine-tuning with a KL
/// term (`beta` ≠ 0) needs.
struct GroupSamplingSetup<Config: GroupSamplingConfig> {
    let rewards: [any RewardFunction]
    let model: LanguageModel
    let tokenizer: Tokenizer
    let dataset: PromptDataset
    /// The `dataset_test_split` prompts when `eval_strategy` evaluates.
    let evaluation: PromptDataset?
    let reference: LanguageModel?

    init(_ config: Config) throws {
        rewards = try BuiltInRewards.make(config: config)
        model = try TrainingModels.load(config.run, seed: config.training.seed,
                                        gradientCheckpointing: config.training.checkpointsGradients,
                                            checkpointingMemoryBudget: config.training.checkpointingMemoryBudget)
        let tokenizer = try TrainingModels.tokenizer(config.run)
        self.tokenizer = tokenizer
        let variables = config.generation.chatTemplateKwargs?.jsonObject ?? JSONObject()
        dataset = try PromptDataset(split: config.run.trainingSplit(), tokenizer: tokenizer, chatTemplateVariables: variables)
        evaluation = try evaluationSplit(config.run, config.training).map {
            try PromptDataset(split: $0, tokenizer: tokenizer, chatTemplateVariables: variables)
        }
        reference = config.generation.beta != 0 && !model.hasAdapters
            ? try LanguageModel(directory: TrainingModels.modelDirectory(config.run)) : nil
        note("\(dataset.rows.count) prompts from \(dataset.source); rewards: \(rewards.map(\.name).joined(separator: ", "))")
    }
}

extension GroupSamplingSetup {
    /// Resolves the config of a GRPO-style command for the `communicator`'s processes, loads what it
    /// names, and trains the algorithm `make` builds from them.
    static func train<Algorithm: TrainingAlgorithm>(
        _ options: TrainingCommandOptions, communicator: any Communicator = SingleProcess(),
        _ make: (Config, GroupSamplingSetup) throws -> Algorithm
    ) throws {
        let resolution = try options.resolve(Config.self, worldSize: communicator.size)
        let setup = try GroupSamplingSetup(resolution.config)
        let algorithm = try make(resolution.config, setup)
        try TrainingRun(trainer: try Trainer(algorithm: algorithm, model: setup.model, arguments: resolution.config.training),
                        config: resolution).run()
    }
}
