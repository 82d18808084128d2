import FledgeLM

/// What GRPO and RLOO load from a resolved config: the rewards, the model (LoRA or full), its
/// tokenizer, the prompts (and the `dataset_test_split` prompts when `eval_strategy` evaluates), and
/// the reference policy when `beta` ≠ 0 (the model with its adapters off, or a frozen copy for full
/// fine-tuning).
struct GroupSamplingInputs {
    let rewards: [any RewardFunction]
    let model: LanguageModel
    let tokenizer: Tokenizer
    let dataset: PromptDataset
    let evaluation: PromptDataset?
    let reference: ReferencePolicy?

    /// The inputs `config` names; `rewards` and `dataset`, when given, replace `reward_funcs` /
    /// `reward_command` and the training split. `progress` hears how many prompts and which rewards.
    init<Config: GroupSamplingConfig>(_ config: Config, rewards: [any RewardFunction]?, dataset: PromptDataset?,
                                      progress: (String) -> Void) throws {
        let rewards = try rewards ?? BuiltInRewards.make(config: config)
        self.rewards = rewards
        model = try TrainingModels.load(config.run, training: config.training)
        let tokenizer = try TrainingModels.tokenizer(config.run)
        self.tokenizer = tokenizer
        let variables = config.generation.chatTemplateKwargs?.jsonObject ?? JSONObject()
        let dataset = try dataset
            ?? PromptDataset(split: config.run.trainingSplit(), tokenizer: tokenizer, chatTemplateVariables: variables)
        self.dataset = dataset
        evaluation = try config.run.evaluationSplit(for: config.training).map {
            try PromptDataset(split: $0, tokenizer: tokenizer, chatTemplateVariables: variables)
        }
        reference = config.generation.beta != 0 ? try ReferencePolicy.of(model) : nil
        progress("\(dataset.rows.count) prompts from \(dataset.source); rewards: \(rewards.map(\.name).joined(separator: ", "))")
    }
}
