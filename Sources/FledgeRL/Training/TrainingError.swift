import Foundation

/// Why a training run stopped or could not start; each case says what to do about it.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// A setting makes the run impossible.
    case invalidSetting(String)
    /// The loss or the gradient norm of a step is NaN or infinite; nothing of the step was applied.
    case nonFinite(quantity: String, value: Double, step: Int, lastCheckpoint: String?)
    /// A weight or an optimizer state tensor holds a NaN or infinite value after step `step`, so
    /// nothing was saved from it.
    case nonFiniteState(tensor: String, value: Float, step: Int, lastCheckpoint: String?)
    /// A checkpoint is missing, incomplete, or does not fit the run.
    case checkpoint(path: String, problem: String)
    /// The output directory holds an earlier run that a fresh run would mix with or overwrite.
    case outputDirectoryInUse(path: String, found: [String])
    /// The algorithm broke the ``TrainingAlgorithm`` contract.
    case algorithm(String)

    public var description: String {
        switch self {
        case .invalidSetting(let text):
            return text
        case let .nonFinite(quantity, value, step, lastCheckpoint):
            let resume = lastCheckpoint.map { "the last good checkpoint is \($0)" } ?? "no checkpoint was saved yet"
            return "step \(step): the \(quantity) is \(value), so training stopped before applying the step; \(resume). "
                + "Lower learning_rate, keep max_grad_norm at 1.0 or below, or check the data of this step."
        case let .nonFiniteState(tensor, value, step, lastCheckpoint):
            let resume = lastCheckpoint.map { "the last good checkpoint is \($0)" } ?? "no checkpoint was saved yet"
            return "step \(step): '\(tensor)' holds \(value), so nothing was saved from this step; \(resume). "
                + "The run diverged: lower learning_rate (it must be finite), keep max_grad_norm at 1.0 or below, "
                + "and resume from the last good checkpoint."
        case let .checkpoint(path, problem):
            return "\(path): \(problem)"
        case let .outputDirectoryInUse(path, found):
            let listed = found.count > 4 ? found.prefix(4).joined(separator: ", ") + ", …" : found.joined(separator: ", ")
            return "output_dir \(path) holds an earlier run (\(listed)); a fresh run would mix with it and overwrite "
                + "its checkpoints. Continue it with resume_from_checkpoint: true (--set resume_from_checkpoint=true), "
                + "write this run elsewhere (--set output_dir=ANOTHER_DIRECTORY), or replace it with "
                + "overwrite_output_dir: true (--set overwrite_output_dir=true deletes its checkpoints, metrics and weights)."
        case .algorithm(let text):
            return text
        }
    }
}
