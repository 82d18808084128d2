extension KTO: ConfiguredAlgorithm {
    /// KTO as `config` describes it (see ``ConfiguredAlgorithm/prepare(_:communicator:progress:)``), for this
    /// process of `communicator`: the unpaired rows of the training split (and of the test split when `eval_strategy`
    /// evaluates) with their mismatched completions when the loss estimates the KL term, against the
    /// model with its adapters off or a frozen copy for full fine-tuning; with
    /// `precompute_ref_log_probs` the reference log-probs are read or computed here. TRL's advice on
    /// `desirable_weight`/`undesirable_weight` for an unbalanced training split is passed to `progress`.
    public static func prepare(_ config: KTOConfig, communicator: any Communicator = SingleProcess(),
                               progress: (String) -> Void = { _ in }) throws -> PreparedTraining<KTO> {
        let model = try TrainingModels.load(config.run, training: config.training)
        let encoder = UnpairedPreferenceEncoder(tokenizer: try TrainingModels.tokenizer(config.run), maxLength: config.maxLength)
        // TRL rotates the completions within batches of the training batch size in every split.
        let mismatchedBatchSize = config.lossType.estimatesKL ? config.training.perDeviceTrainBatchSize : nil
        let train = try UnpairedPreferenceDataset(split: config.run.trainingSplit(), encoder: encoder,
                                                  mismatchedBatchSize: mismatchedBatchSize)
        let evaluation = try config.run.evaluationSplit(for: config.training).map {
            try UnpairedPreferenceDataset(split: $0, encoder: encoder, mismatchedBatchSize: mismatchedBatchSize)
        }
        progress("\(train.rows.count) \(train.isConversational ? "chat" : "text") rows from \(train.source) "
            + "(\(train.desirableCount) desirable, \(train.undesirableCount) undesirable)"
            + (train.droppedCount > 0 ? " (\(train.droppedCount) dropped: the prompt fills max_length)" : "")
            + (evaluation.map { ", \($0.rows.count) for evaluation" } ?? ""))
        if let advice = config.weightAdvice(desirable: train.desirableCount, rows: train.rows.count) {
            progress("warning: " + advice)
        }
        if config.precomputeRefLogProbs { progress("reference log-probs: reading or computing them before training") }
        let kto = try KTO(model: model, train: train.rows, evaluation: evaluation?.rows, config: config,
                          reference: try ReferencePolicy.of(model), communicator: communicator)
        if let precomputed = kto.precomputedTrain {
            progress("reference log-probs " + (precomputed.wasCached ? "read from the cache" : "computed and cached")
                + " in \(config.training.outputDirectory.appendingPathComponent("reference_logps").path)")
        }
        return PreparedTraining(algorithm: kto, model: model, arguments: config.training)
    }
}
