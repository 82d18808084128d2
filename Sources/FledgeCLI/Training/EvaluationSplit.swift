import ArgumentParser
import Foundation
import FledgeRL

/// The `dataset_test_split` rows of a run when evaluation is on (`eval_strategy` other than `no`, or
/// `eval_on_start`); an error saying what to change when it is on and the dataset has no such split.
func evaluationSplit(_ run: RunArguments, _ training: TrainingArguments) throws -> DatasetSplit? {
    guard training.evaluates else { return nil }
    guard let split = try run.evaluationSplit() else {
        let splits = try run.datasetRepository().splitNames.joined(separator: ", ")
        let setting = training.evalStrategy != .no ? "eval_strategy is \(training.evalStrategy.rawValue)" : "eval_on_start is true"
        throw ValidationError("\(setting), but dataset_name has no split '\(run.datasetTestSplit)' (its splits: \(splits)); "
            + "set dataset_test_split to one, or turn evaluation off (eval_strategy: no, eval_on_start: false)")
    }
    return split
}
