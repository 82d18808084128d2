import ArgumentParser
import Foundation
import FledgeRL

/// The `dataset_test_split` rows of a run when evaluation is on (`eval_strategy` other than `no`);
/// an error saying what to change when it is on and the dataset has no such split.
func evaluationSplit(_ run: RunArguments, _ training: TrainingArguments) throws -> DatasetSplit? {
    guard training.evalStrategy != .no else { return nil }
    guard let split = try run.evaluationSplit() else {
        let splits = try run.datasetRepository().splitNames.joined(separator: ", ")
        throw ValidationError("eval_strategy is \(training.evalStrategy.rawValue), but dataset_name has no split "
            + "'\(run.datasetTestSplit)' (its splits: \(splits)); set dataset_test_split to one, or set eval_strategy: no")
    }
    return split
}
