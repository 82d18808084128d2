import ArgumentParser
import Foundation
import FledgeRL

/// `fledge ppo --config FILE.yaml`: Proximal Policy Optimization with TRL's `PPOConfig` fields.
struct PPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ppo",
        abstract: "PPO of a model directory on prompts, with a value model and a reward (TRL's PPOConfig fields).",
        discussion: """
            Rows are {"prompt"} (text or chat messages) plus any columns the rewards read. The score comes from \
            reward_model_path (a sequence classifier sharing the policy's tokenizer, which also initialises the \
            value model) or from reward_funcs/reward_command (the value model then starts from the policy with a \
            new score head). The reference policy is the model with its LoRA adapters off, or a frozen copy. \
            Checkpoints, metrics.jsonl and the final weights (value model: value_model.safetensors) go to \
            output_dir; Ctrl-C saves a checkpoint after the current step and exits with status 130.
            """)

    @OptionGroup var options: TrainingCommandOptions

    func run() throws {
        let resolution = try options.resolve(PPOConfig.self)
        let config = resolution.config
        let training = config.training
        let policy = try TrainingModels.load(config.run, seed: training.seed, gradientCheckpointing: training.checkpointsGradients,
                                              checkpointingMemoryBudget: training.checkpointingMemoryBudget)
        let tokenizer = try TrainingModels.tokenizer(config.run)
        let dataset = try PromptDataset(split: config.run.trainingSplit(), tokenizer: tokenizer)
        let scorer = try PPOScorer.make(config: config)
        var lora = policy.loraOptions
        lora?.seed &+= 1
        let value = try PolicyAndValue.valueModel(policyDirectory: policy.directory,
                                                  rewardModel: config.rewardModelPath.map { URL(fileURLWithPath: $0) },
                                                  lora: lora, seed: UInt64(bitPattern: Int64(training.seed)))
        value.gradientCheckpointing = training.checkpointsGradients
        value.checkpointingMemoryBudget = training.checkpointingMemoryBudget
        let models = PolicyAndValue(policy: policy, value: value)
        let ppo = try PPO(models: models, tokenizer: tokenizer, dataset: dataset, scorer: scorer, config: config,
                          reference: try ReferencePolicy.of(policy))
        let geometry = ppo.geometry
        note("\(dataset.rows.count) prompts from \(dataset.source); rollouts of \(geometry.rolloutSize) responses, "
            + "\(geometry.stepsPerRollout) optimizer steps each (\(geometry.ppoEpochs) PPO epochs × \(geometry.miniBatches) "
            + "mini-batches); value model from " + (config.rewardModelPath ?? "the policy (new score head)"))
        try TrainingRun(trainer: try Trainer(algorithm: ppo, model: models, arguments: ppo.trainingArguments), config: resolution).run()
    }
}
