import Foundation

/// Receives the progress of a run; the library itself prints nothing. The command-line tool's
/// progress display is one; tests use others to act at a given step.
public protocol TrainingObserver: AnyObject {
    /// The run starts (or resumes) at `progress.step` of `progress.maxSteps`.
    func trainingWillStart(_ progress: StepProgress)
    /// An optimizer step finished.
    func trainingDidStep(_ progress: StepProgress)
    /// A record was logged (a training window or an evaluation).
    func trainingDidLog(_ record: MetricsRecord)
    /// Completions were logged at `step` (`log_completions`).
    func trainingDidLogCompletions(_ log: CompletionLog, step: Int)
    /// A checkpoint was written.
    func trainingDidSave(checkpoint: URL)
}

extension TrainingObserver {
    public func trainingWillStart(_ progress: StepProgress) {}
    public func trainingDidStep(_ progress: StepProgress) {}
    public func trainingDidLog(_ record: MetricsRecord) {}
    public func trainingDidLogCompletions(_ log: CompletionLog, step: Int) {}
    public func trainingDidSave(checkpoint: URL) {}
}

/// Where a run is.
public struct StepProgress: Sendable {
    /// Optimizer steps completed.
    public let step: Int
    /// Optimizer steps of the run.
    public let maxSteps: Int
    /// Fractional passes over the data completed.
    public let epoch: Double
    /// The loss of the last step (NaN before the first).
    public let loss: Double
    /// Seconds since this process started training, and the steps it has run in that time (for an ETA).
    public let seconds: Double
    public let stepsThisSession: Int
}
