import Foundation

/// Why a training run stopped or could not start; each case says what to do about it.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// A setting makes the run impossible.
    case invalidSetting(String)
    /// The loss or the gradient norm of a step is NaN or infinite; nothing of the step was applied.
    case nonFinite(quantity: String, value: Double, step: Int, lastCheckpoint: String?)
    /// A checkpoint is missing, incomplete, or does not fit the run.
    case checkpoint(path: String, problem: String)
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
        case let .checkpoint(path, problem):
            return "\(path): \(problem)"
        case .algorithm(let text):
            return text
        }
    }
}
