import Synchronization

/// A request, from any thread (a Ctrl-C handler), that a run stop at the end of the current step;
/// the trainer then saves a checkpoint and returns ``TrainingOutcome/Status/stopped``.
public final class StopRequest: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    /// Asks the run to stop after the current step.
    public func request() { flag.store(true, ordering: .relaxed) }

    /// Whether a stop was asked for.
    public var isRequested: Bool { flag.load(ordering: .relaxed) }
}
