/// Accelerate's sharding of an epoch's micro-batches over the processes of a data-parallel run:
/// local micro-batch `i` of process `p` is global micro-batch `i·N + p`, so the micro-batches one
/// step covers on `N` processes are those one process with `N` times the gradient accumulation
/// covers. At the end of an epoch a process may be left without one.
struct MicroBatchSharding {
    let processes: Int
    let rank: Int

    init(_ communicator: any Communicator) {
        processes = communicator.size
        rank = communicator.rank
    }

    /// Micro-batches per epoch on each process, of `global` micro-batches over all of them.
    func localCount(global: Int) -> Int { (global + processes - 1) / processes }

    /// The global micro-batches that local micro-batches `local` cover on every process, the epoch
    /// having `global` of them.
    func globalRange(_ local: Range<Int>, global: Int) -> Range<Int> {
        local.lowerBound * processes..<Swift.min(local.upperBound * processes, global)
    }

    /// For each local micro-batch of `local`, where this process's share lies among the
    /// `covered` micro-batches of ``globalRange(_:global:)``; nil past the end of the epoch.
    func offsets(_ local: Range<Int>, covered: Int) -> [Int?] {
        local.map { index in
            let offset = (index - local.lowerBound) * processes + rank
            return offset < covered ? offset : nil
        }
    }
}
