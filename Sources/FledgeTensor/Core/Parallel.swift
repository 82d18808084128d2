import Dispatch
import Foundation

/// Splits loops across the machine's cores.
public enum Parallel {
    /// Worker count used by kernels: `FLEDGE_NUM_THREADS` when set, else the active processors
    /// divided among the processes an MPI launcher started on this machine
    /// (`OMPI_COMM_WORLD_LOCAL_SIZE`, `MPI_LOCALNRANKS`), so that `mpirun -np 2` on 2 cores runs
    /// two single-threaded ranks rather than four threads.
    public static let workers = workerCount(environment: ProcessInfo.processInfo.environment,
                                            processors: ProcessInfo.processInfo.activeProcessorCount)

    /// The worker count `environment` asks for on a machine of `processors` cores; stops with a
    /// message when `FLEDGE_NUM_THREADS` is not a positive integer.
    static func workerCount(environment: [String: String], processors: Int) -> Int {
        if let setting = environment["FLEDGE_NUM_THREADS"] {
            guard let count = Int(setting), count > 0 else {
                fatalError("FLEDGE_NUM_THREADS is '\(setting)'; set it to a positive number of threads per process")
            }
            return count
        }
        let localProcesses = ["OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"].lazy
            .compactMap { environment[$0].flatMap { Int($0) } }.first ?? 1
        return max(1, processors / max(localProcesses, 1))
    }

    /// Runs `body(range)` over `0..<count` split into at most `workers` contiguous chunks,
    /// each at least `minChunk` long, on the persistent `WorkerPool` (the calling thread taking a
    /// share). The chunks depend only on `count`, `minChunk` and `workers`, never on which thread
    /// runs them, so results are the same from run to run. Runs inline when there is only one chunk
    /// or when `parallel` is false (a kernel called from inside another parallel loop).
    public static func forRanges(_ count: Int, minChunk: Int = 1, parallel: Bool = true, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = parallel ? min(workers, max(1, count / max(minChunk, 1))) : 1
        if chunks == 1 {
            body(0..<count)
            return
        }
        let chunk: @Sendable (Int) -> Range<Int> = { chunk in (count * chunk / chunks)..<(count * (chunk + 1) / chunks) }
        if WorkerPool.shared.run(chunks, { body(chunk($0)) }) { return }
        // The pool is busy with another thread's region, or this is a region nested in one.
        withoutActuallyEscaping(body) { body in
            let task = UnsafeSendable(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { task.value(chunk($0)) }
        }
    }
}

/// Carries a value that the caller guarantees is used safely across threads
/// (kernels hand disjoint output ranges to each worker).
struct UnsafeSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
