extension SFT: ConfiguredAlgorithm {
    /// SFT as `config` describes it (see ``ConfiguredAlgorithm/prepare(_:communicator:progress:)``): the
    /// training split and, when `eval_strategy` evaluates, the test split, tokenized by the model's
    /// tokenizer as `config` prepares it.
    public static func prepare(_ config: SFTConfig, communicator: any Communicator = SingleProcess(),
                               progress: (String) -> Void = { _ in }) throws -> PreparedTraining<SFT> {
        let model = try TrainingModels.load(config.run, training: config.training)
        let tokenizer = try config.preparedTokenizer(TrainingModels.tokenizer(config.run))
        let train = try SFTDataset(split: config.run.trainingSplit(), tokenizer: tokenizer, config: config)
        let evaluation = try config.run.evaluationSplit(for: config.training).map {
            try SFTDataset(split: $0, tokenizer: tokenizer, config: config, evaluation: true)
        }
        let rows = config.packing
            ? "packed rows (\(config.packingStrategy.rawValue), \(config.maxLength ?? 0) tokens) of \(train.format.rawValue) examples"
            : "\(train.format.rawValue) examples"
        progress("\(train.sequences.count) \(rows) from \(train.source)"
            + (train.droppedCount > 0 ? " (\(train.droppedCount) dropped: no trained token left after max_length)" : "")
            + (evaluation.map { ", \($0.sequences.count) for evaluation" } ?? ""))
        let sft = try SFT(model: model, train: train.sequences, evaluation: evaluation?.sequences, config: config,
                          communicator: communicator)
        return PreparedTraining(algorithm: sft, model: model, arguments: config.training)
    }
}
