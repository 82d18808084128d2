extension RewardModeling: ConfiguredAlgorithm {
    /// Reward modelling as `config` describes it (see ``ConfiguredAlgorithm/prepare(_:communicator:progress:)``),
    /// for this process of `communicator`: the tokenizer with `eos_token` and `chat_template_path` applied, the one-label
    /// reward model (``TrainingModels/rewardModel(_:tokenizer:)``), and the preference pairs of the
    /// training split (and of the test split when `eval_strategy` evaluates).
    public static func prepare(_ config: RewardConfig, communicator: any Communicator = SingleProcess(),
                               progress: (String) -> Void = { _ in }) throws -> PreparedTraining<RewardModeling> {
        let tokenizer = try TrainingModels.tokenizer(config.run).prepared(eosToken: config.eosToken,
                                                                          chatTemplatePath: config.chatTemplatePath)
        let model = try TrainingModels.rewardModel(config, tokenizer: tokenizer)
        let encoder = RewardEncoder(tokenizer: tokenizer, maxLength: config.maxLength)
        let train = try RewardDataset(split: config.run.trainingSplit(), encoder: encoder)
        let evaluation = try config.run.evaluationSplit(for: config.training).map { try RewardDataset(split: $0, encoder: encoder) }
        progress("\(train.pairs.count) \(train.isConversational ? "chat" : "text") preference pairs from \(train.source)"
            + (train.droppedCount > 0 ? " (\(train.droppedCount) dropped: longer than max_length)" : "")
            + (evaluation.map { ", \($0.pairs.count) for evaluation" } ?? ""))
        let rewardModeling = try RewardModeling(model: model, train: train.pairs, evaluation: evaluation?.pairs, config: config,
                                                communicator: communicator)
        return PreparedTraining(algorithm: rewardModeling, model: model, arguments: config.training)
    }
}
