extension DPO: ConfiguredAlgorithm {
    /// DPO as `config` describes it (see ``ConfiguredAlgorithm/prepare(_:communicator:progress:)``), in one
    /// process: the preference pairs of the training split (and of the test split when `eval_strategy`
    /// evaluates), against the model with its adapters off or a frozen copy for full fine-tuning;
    /// with `precompute_ref_log_probs` the reference log-probs are read or computed here.
    public static func prepare(_ config: DPOConfig, communicator: any Communicator = SingleProcess(),
                               progress: (String) -> Void = { _ in }) throws -> PreparedTraining<DPO> {
        try communicator.requireSingleProcess(for: .dpo)
        let model = try TrainingModels.load(config.run, training: config.training)
        let encoder = PreferenceEncoder(tokenizer: try TrainingModels.tokenizer(config.run), maxLength: config.maxLength,
                                        truncationMode: config.truncationMode)
        let train = try PreferenceDataset(split: config.run.trainingSplit(), encoder: encoder)
        let evaluation = try config.run.evaluationSplit(for: config.training).map { try PreferenceDataset(split: $0, encoder: encoder) }
        progress("\(train.pairs.count) \(train.isConversational ? "chat" : "text") preference pairs from \(train.source)"
            + (train.droppedCount > 0 ? " (\(train.droppedCount) dropped: the prompt fills max_length)" : "")
            + (evaluation.map { ", \($0.pairs.count) for evaluation" } ?? ""))
        if config.precomputeRefLogProbs { progress("reference log-probs: reading or computing them before training") }
        let dpo = try DPO(model: model, train: train.pairs, evaluation: evaluation?.pairs, config: config,
                          reference: try ReferencePolicy.of(model))
        if let precomputed = dpo.precomputedTrain {
            progress("reference log-probs " + (precomputed.wasCached ? "read from the cache" : "computed and cached")
                + " in \(config.training.outputDirectory.appendingPathComponent("reference_logps").path)")
        }
        return PreparedTraining(algorithm: dpo, model: model, arguments: config.training)
    }
}
