/// The splits a run trains and evaluates on: `dataset_name` resolved with `dataset_config` as
/// `datasets.load_dataset(dataset_name, dataset_config)` resolves it, then split by
/// `dataset_train_split` / `dataset_test_split` as TRL's scripts split it.
extension RunArguments {
    /// The dataset's configs and splits: a local file or folder, or a Hub dataset id resolved through
    /// the Hugging Face cache (`DatasetLocation`).
    public func datasetRepository() throws(DatasetError) -> DatasetRepository {
        try DatasetLocation.resolve(datasetName, config: datasetConfig)
    }

    /// The rows of `dataset_train_split`; errors list the splits there are.
    public func trainingSplit() throws(DatasetError) -> DatasetSplit {
        try datasetRepository().split(datasetTrainSplit)
    }

    /// The `dataset_test_split` rows a run evaluates on when `training` evaluates (`eval_strategy`
    /// other than `no`, or `eval_on_start`), else nil; an error saying what to change when it
    /// evaluates and the dataset has no such split.
    public func evaluationSplit(for training: TrainingArguments) throws -> DatasetSplit? {
        guard training.evaluates else { return nil }
        guard let split = try evaluationSplit() else {
            let splits = try datasetRepository().splitNames.joined(separator: ", ")
            let setting = training.evalStrategy != .no ? "eval_strategy is \(training.evalStrategy.rawValue)" : "eval_on_start is true"
            throw TrainingError.invalidSetting("\(setting), but dataset_name has no split '\(datasetTestSplit)' (its splits: "
                + "\(splits)); set dataset_test_split to one, or turn evaluation off (eval_strategy: no, eval_on_start: false)")
        }
        return split
    }

    /// The rows of `dataset_test_split`, or nil when the dataset has no such split.
    public func evaluationSplit() throws(DatasetError) -> DatasetSplit? {
        let repository = try datasetRepository()
        guard repository.files(ofSplit: datasetTestSplit) != nil else { return nil }
        return try repository.split(datasetTestSplit)
    }
}
