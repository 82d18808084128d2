import Foundation

/// The processes `mpirun` (Open MPI) started, as a ``Communicator`` over `MPI_COMM_WORLD`.
///
/// Each collective first waits for every process to arrive (a non-blocking barrier polled with
/// `MPI_Test` until the timeout), then moves its data with the blocking call (Open MPI's tuned
/// algorithms, which are faster than its non-blocking ones). So a process whose peer is stuck
/// ends with an error instead of waiting forever, while the data itself moves at full speed.
/// Errors are returned, not fatal (`MPI_ERRORS_RETURN`), and become ``CommunicatorError``s. A
/// process that dies ends the job through the launcher: Open MPI's `mpirun` kills the remaining
/// processes when one exits without `MPI_Finalize` or with a failure status.
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    public private(set) var collectiveSeconds = 0.0
    /// Seconds a collective may wait for the other processes (`FLEDGE_MPI_TIMEOUT`, default 1800;
    /// nil: no limit).
    public let timeout: Double?
    private let mpi: MPILibrary

    /// The default of ``timeout``: long enough for a slow generation or reward round on another process.
    public static let defaultTimeout = 1800.0

    /// Loads the MPI library and initialises MPI for this process (`MPI_THREAD_FUNNELED`: only this
    /// thread calls MPI). Call once per process, from the thread that will run the training.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        timeout = try Self.timeout(environment["FLEDGE_MPI_TIMEOUT"])
        mpi = try MPILibrary.load(environment: environment)
        var flag: Int32 = 0
        try Self.check(mpi, mpi.initialized(&flag), "MPI_Initialized", "start-up")
        if flag == 0 {
            var provided: Int32 = 0
            try Self.check(mpi, mpi.initThread(nil, nil, MPILibrary.threadFunneled, &provided), "MPI_Init_thread", "start-up")
        }
        try Self.check(mpi, mpi.setErrorHandler(mpi.commWorld, mpi.errorsReturn), "MPI_Comm_set_errhandler", "start-up")
        var value: Int32 = 0
        try Self.check(mpi, mpi.commRank(mpi.commWorld, &value), "MPI_Comm_rank", "start-up")
        rank = Int(value)
        try Self.check(mpi, mpi.commSize(mpi.commWorld, &value), "MPI_Comm_size", "start-up")
        size = Int(value)
    }

    /// Shuts MPI down (`MPI_Finalize`); call once on every process at the end of a successful run.
    public func finish() throws {
        var flag: Int32 = 0
        _ = mpi.finalized(&flag)
        if flag == 0 { try Self.check(mpi, mpi.finalize(), "MPI_Finalize", "shut-down") }
    }

    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>, purpose: String) throws {
        try collective(purpose) {
            try check(mpi.allReduce(MPILibrary.inPlace, buffer.baseAddress, try count(buffer.count, purpose), mpi.float, mpi.sum,
                                    mpi.commWorld), "MPI_Allreduce", purpose)
        }
    }

    public func allReduceSum(_ values: [Double], purpose: String) throws -> [Double] {
        var sums = values
        try collective(purpose) {
            try check(mpi.allReduce(MPILibrary.inPlace, &sums, try count(sums.count, purpose), mpi.double, mpi.sum, mpi.commWorld),
                      "MPI_Allreduce", purpose)
        }
        return sums
    }

    public func allGather(_ values: [Double], purpose: String) throws -> [[Double]] {
        try gather(values, datatype: mpi.double, purpose: purpose)
    }

    public func allGather(_ bytes: [UInt8], purpose: String) throws -> [[UInt8]] {
        try gather(bytes, datatype: mpi.byte, purpose: purpose)
    }

    public func abort(_ message: String) -> Never {
        FileHandle.standardError.write(Data("error (process \(rank) of \(size)): \(message)\n".utf8))
        _ = mpi.abort(mpi.commWorld, 1)
        exit(1)
    }

    /// Every process's `values` (counts may differ): the counts first, then the values.
    private func gather<Element: Numeric>(_ values: [Element], datatype: MPILibrary.Handle, purpose: String) throws -> [[Element]] {
        var counts = [Int32](repeating: 0, count: size)
        var all: [Element] = []
        var offsets: [Int32] = []
        try collective(purpose) {
            var own = try count(values.count, purpose)
            try check(mpi.allGather(&own, 1, mpi.int, &counts, 1, mpi.int, mpi.commWorld), "MPI_Allgather", purpose)
            offsets = counts.indices.map { index in counts[..<index].reduce(0, +) }
            all = [Element](repeating: 0, count: Int(counts.reduce(0, +)))
            let code = values.withUnsafeBytes { sent in
                all.withUnsafeMutableBytes { received in
                    mpi.allGatherVaried(sent.baseAddress, own, datatype, received.baseAddress, counts, offsets, datatype,
                                        mpi.commWorld)
                }
            }
            try check(code, "MPI_Allgatherv", purpose)
        }
        return counts.indices.map { Array(all[Int(offsets[$0])..<Int(offsets[$0] + counts[$0])]) }
    }

    /// Runs the blocking `body` once every process has arrived, and counts the time.
    private func collective(_ purpose: String, _ body: () throws -> Void) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { collectiveSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        try awaitArrival(purpose, since: start)
        try body()
    }

    /// A non-blocking barrier polled with `MPI_Test`: busily for the first millisecond, then with
    /// pauses of up to a millisecond (a peer still generating or scoring), until the timeout.
    private func awaitArrival(_ purpose: String, since start: UInt64) throws {
        var request: UnsafeMutableRawPointer?
        try check(mpi.barrier(mpi.commWorld, &request), "MPI_Ibarrier", purpose)
        var done: Int32 = 0
        while true {
            try check(mpi.test(&request, &done, nil), "MPI_Test", purpose)
            if done != 0 { return }
            let waited = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if let timeout, waited > timeout {
                throw CommunicatorError.timedOut(purpose: purpose, seconds: waited)
            }
            if waited > 0.001 { usleep(waited < 1 ? 50 : 1000) }
        }
    }

    /// MPI counts are C ints.
    private func count(_ value: Int, _ purpose: String) throws -> Int32 {
        guard let count = Int32(exactly: value) else {
            throw CommunicatorError.mismatch("\(purpose): \(value) elements are more than one MPI call can take")
        }
        return count
    }

    private func check(_ code: Int32, _ call: String, _ purpose: String) throws {
        try Self.check(mpi, code, call, purpose)
    }

    private static func check(_ mpi: MPILibrary, _ code: Int32, _ call: String, _ purpose: String) throws {
        guard code != 0 else { return }
        throw CommunicatorError.mpiFailure(call: call, code: code, message: mpi.message(for: code), purpose: purpose)
    }

    private static func timeout(_ setting: String?) throws -> Double? {
        guard let setting else { return defaultTimeout }
        guard let seconds = Double(setting), seconds >= 0, seconds.isFinite else {
            throw CommunicatorError.mismatch("FLEDGE_MPI_TIMEOUT is '\(setting)'; set it to seconds a collective may wait "
                + "for the other processes, or 0 for no limit")
        }
        return seconds == 0 ? nil : seconds
    }
}
