import ArgumentParser
import Foundation
import FledgeRL

/// The `dataset_test_split` file of a run when evaluation is on (`eval_strategy` other than `no`);
/// an error saying what to change when it is on and there is none.
func evaluationFile(_ run: RunArguments, _ training: TrainingArguments) throws -> URL? {
    guard training.evalStrategy != .no else { return nil }
    guard let file = DatasetLocation.evaluationFile(run.datasetName, split: run.datasetTestSplit) else {
        throw ValidationError("eval_strategy is \(training.evalStrategy.rawValue), but dataset_name has no "
            + "\(run.datasetTestSplit).jsonl; make dataset_name a folder with one, or set eval_strategy: no")
    }
    return file
}
