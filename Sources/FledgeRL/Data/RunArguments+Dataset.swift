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

    /// The rows of `dataset_test_split`, or nil when the dataset has no such split.
    public func evaluationSplit() throws(DatasetError) -> DatasetSplit? {
        let repository = try datasetRepository()
        guard repository.files(ofSplit: datasetTestSplit) != nil else { return nil }
        return try repository.split(datasetTestSplit)
    }
}
