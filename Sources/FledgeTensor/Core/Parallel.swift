import Dispatch
import Foundation

/// Splits loops across the machine's cores.
public enum Parallel {
    /// Worker count used by kernels; defaults to the number of active processors.
    public static let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Runs `body(range)` over `0..<count` split into at most `workers` contiguous chunks,
    /// each at least `minChunk` long. Runs inline when there is only one chunk or when
    /// `parallel` is false (a kernel called from inside another parallel loop).
    public static func forRanges(_ count: Int, minChunk: Int = 1, parallel: Bool = true, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = parallel ? min(workers, max(1, count / max(minChunk, 1))) : 1
        if chunks == 1 {
            body(0..<count)
            return
        }
        withoutActuallyEscaping(body) { body in
            let task = UnsafeSendable(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let start = count * chunk / chunks
                let end = count * (chunk + 1) / chunks
                task.value(start..<end)
            }
        }
    }
}

/// Carries a value that the caller guarantees is used safely across threads
/// (kernels hand disjoint output ranges to each worker).
struct UnsafeSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
