/// The processes of a data-parallel run and the collective operations training needs of them:
/// a sum of gradients, sums of small counters, and gathers of rewards and metrics.
///
/// Every process holds the whole model and calls the same collectives in the same order; a
/// collective returns on each process once all have joined it. ``SingleProcess`` is the
/// one-process run; ``MPICommunicator`` runs over MPI when the process was started by `mpirun`.
/// Collectives throw ``CommunicatorError`` (an MPI failure, or a wait past the timeout) rather than
/// hang or crash; the caller ends the whole run (``abort(_:)``).
public protocol Communicator: AnyObject {
    /// This process's index, `0 ..< size`. Process 0 alone writes metrics, checkpoints and weights.
    var rank: Int { get }
    /// The number of processes training together (`world_size`).
    var size: Int { get }
    /// Wall seconds this process has spent in collectives so far, from each one's start to its
    /// completion (waiting for slower processes included).
    var collectiveSeconds: Double { get }

    /// Sums `buffer` element-wise over every process, in place; every process ends up with the
    /// same sums. `purpose` names the operation in errors.
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>, purpose: String) throws

    /// The element-wise sums of `values` over every process (the same count on each).
    func allReduceSum(_ values: [Double], purpose: String) throws -> [Double]

    /// Every process's `values`, in rank order; the counts may differ between processes.
    func allGather(_ values: [Double], purpose: String) throws -> [[Double]]

    /// Every process's `bytes`, in rank order; the counts may differ between processes.
    func allGather(_ bytes: [UInt8], purpose: String) throws -> [[UInt8]]

    /// Ends the whole run at once: prints `message` naming this process and stops every process
    /// with a failure status.
    func abort(_ message: String) -> Never
}

extension Communicator {
    /// Whether this is process 0, the one that writes the run's files.
    public var isPrimary: Bool { rank == 0 }

    /// Every process's `text`, in rank order.
    public func allGather(_ text: String, purpose: String) throws -> [String] {
        try allGather(Array(text.utf8), purpose: purpose).map { String(decoding: $0, as: UTF8.self) }
    }

    /// An error unless this is a one-process run, for a `trainer` that does not split its batches
    /// over processes.
    func requireSingleProcess(for trainer: TrainerKind) throws(TrainingError) {
        guard size == 1 else {
            throw .invalidSetting("\(trainer.rawValue) trains in one process; run it without mpirun (\(size) processes here)")
        }
    }
}

/// Why a collective operation failed.
public enum CommunicatorError: Error, CustomStringConvertible, Equatable {
    /// The MPI library could not be loaded or lacks a symbol.
    case libraryUnavailable(String)
    /// An MPI call returned an error.
    case mpiFailure(call: String, code: Int32, message: String, purpose: String)
    /// A collective did not complete within the timeout: another process is stuck or gone.
    case timedOut(purpose: String, seconds: Double)
    /// Processes disagree about something that must be identical on all of them.
    case mismatch(String)

    public var description: String {
        switch self {
        case .libraryUnavailable(let text):
            return text
        case let .mpiFailure(call, code, message, purpose):
            return "\(call) failed during \(purpose) (MPI error \(code): \(message)); another process may have "
                + "stopped; see its output above"
        case let .timedOut(purpose, seconds):
            return "waited \(Int(seconds)) s for the other processes during \(purpose); another process is stuck or gone. "
                + "Raise FLEDGE_MPI_TIMEOUT (seconds, 0 for no limit) if a step legitimately takes longer"
        case .mismatch(let text):
            return text
        }
    }
}
