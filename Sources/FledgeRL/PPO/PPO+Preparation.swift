import Foundation

extension PPO: ConfiguredAlgorithm {
    /// PPO as `config` describes it (see ``ConfiguredAlgorithm/prepare(_:communicator:progress:)``), in one
    /// process: the policy, its value model (from `reward_model_path`, else the policy with a new score
    /// head; LoRA seeded one past the policy's), the scorer, the prompts, and the reference policy.
    public static func prepare(_ config: PPOConfig, communicator: any Communicator = SingleProcess(),
                               progress: (String) -> Void = { _ in }) throws -> PreparedTraining<PPO> {
        try communicator.requireSingleProcess(for: .ppo)
        let training = config.training
        let policy = try TrainingModels.load(config.run, training: training)
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
        progress("\(dataset.rows.count) prompts from \(dataset.source); rollouts of \(geometry.rolloutSize) responses, "
            + "\(geometry.stepsPerRollout) optimizer steps each (\(geometry.ppoEpochs) PPO epochs × \(geometry.miniBatches) "
            + "mini-batches); value model from " + (config.rewardModelPath ?? "the policy (new score head)"))
        return PreparedTraining(algorithm: ppo, model: models, arguments: ppo.trainingArguments)
    }
}
