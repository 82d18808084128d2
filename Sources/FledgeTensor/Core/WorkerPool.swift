import CFledgeKernels
import Foundation

/// Threads started once and woken for every parallel region, the way llama.cpp's thread pool works:
/// between regions a worker watches for the next one for a short while (`spinMicroseconds`), then
/// sleeps on a condition variable, so a busy sequence of small products (a decoding step runs about
/// two hundred) pays no thread start-up per product, and an idle process burns no CPU. The calling
/// thread runs a share of every region itself, and an index that a descheduled worker has not
/// picked up is taken by whoever is free, so one slow thread does not hold a region up.
///
/// The pool is written in C (`worker_pool.c` in CFledgeKernels) rather than with Swift's
/// `Synchronization` atomics: the region hand-off needs a compare-and-swap on a 64-bit word, acquire
/// fences and condition variables with a mutex (sleeping threads), which C11 and pthreads express
/// directly, where Swift has no condition variable in `Synchronization` and `Atomic` values need a
/// stable address that a Swift class cannot promise to C; the C side also keeps the spin loop's
/// `pause` instruction and clock reads in one place.
///
/// Which thread runs an index is not fixed; callers make each index's work independent of the thread
/// (disjoint outputs), so results do not depend on scheduling.
final class WorkerPool: @unchecked Sendable {
    /// The pool `Parallel` uses: `Parallel.workers` threads counting the caller.
    static let shared = WorkerPool(threads: Parallel.workers,
                                   spinMicroseconds: spinMicroseconds(environment: ProcessInfo.processInfo.environment))

    /// How long a thread watches for more work before sleeping: `FLEDGE_SPIN_MICROSECONDS` when set,
    /// else 200 µs — longer than the gaps between the products of a decoding step, short enough that
    /// a process waiting for I/O or for its user goes quiet at once.
    static func spinMicroseconds(environment: [String: String]) -> Int {
        guard let setting = environment["FLEDGE_SPIN_MICROSECONDS"] else { return 200 }
        guard let microseconds = Int(setting), microseconds >= 0 else {
            fatalError("FLEDGE_SPIN_MICROSECONDS is '\(setting)'; set it to a whole number of microseconds (0 sleeps at once)")
        }
        return microseconds
    }

    /// Threads that share a region's indices, the caller included.
    let threads: Int
    private let pool: OpaquePointer

    /// Starts `threads − 1` worker threads (the caller of `run` is the last one).
    init(threads: Int, spinMicroseconds: Int) {
        precondition(threads >= 1, "a worker pool needs at least one thread")
        guard let pool = fledge_worker_pool_create(threads - 1, spinMicroseconds * 1000) else {
            fatalError("out of memory starting a worker pool of \(threads) threads")
        }
        self.pool = pool
        self.threads = 1 + fledge_worker_pool_helpers(pool)
    }

    /// Worker threads asleep right now, having found no region during their spin.
    var sleepingHelpers: Int { fledge_worker_pool_sleeping(pool) }

    deinit { fledge_worker_pool_destroy(pool) }

    /// Calls `body(index)` exactly once for every index in `0 ..< count`, spread over the pool's
    /// threads and the calling thread, and returns true once every call has returned. Returns false
    /// without calling anything when the pool is running another thread's region, or when called
    /// from inside a region's body (a nested region): the caller then does the work another way.
    func run(_ count: Int, _ body: (Int) -> Void) -> Bool {
        withoutActuallyEscaping(body) { body in
            var task = body
            return withUnsafeMutablePointer(to: &task) { task in
                fledge_worker_pool_run(pool, count, { context, index in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(index)
                }, task) != 0
            }
        }
    }
}
