import FledgeNN
import FledgeTensor

/// Averages parameter gradients over the processes of a run after the backward passes of a step,
/// as PyTorch's DistributedDataParallel does, in buckets.
///
/// The gradients are seen as one flat vector — a presence flag per parameter first, then each
/// parameter's elements — cut into buckets of `bucketCapacity` floats, each packed into one
/// buffer, summed over the processes and unpacked times 1/size. A parameter that got no gradient
/// on any process keeps none (the optimizer skips it, as on one process); one that got a gradient
/// on some process gets the average on all. Buckets bound the staging memory (one bucket, kept
/// between steps) and keep each MPI call under its count limit.
///
/// Unlike DDP, the all-reduce runs after the step's last backward instead of overlapping it:
/// Open MPI moves non-blocking transfers only inside MPI calls, which a single-threaded backward
/// does not make, and its non-blocking all-reduce is slower than the blocking one; the measured
/// all-reduce time is small next to a step (docs/distributed.md).
public final class GradientAverager {
    public let communicator: any Communicator
    /// Floats per bucket.
    public let bucketCapacity: Int
    /// The staging buffer, allocated at the first average.
    private var staging: UnsafeMutableBufferPointer<Float>?

    /// The default bucket: 16 MiB (PyTorch DDP's `bucket_cap_mb` is 25).
    public static let defaultBucketMegabytes = 16.0

    /// An averager with buckets of `FLEDGE_BUCKET_MB` mebibytes (default 16).
    public init(communicator: any Communicator, environment: [String: String]) throws {
        self.communicator = communicator
        var megabytes = Self.defaultBucketMegabytes
        if let setting = environment["FLEDGE_BUCKET_MB"] {
            guard let value = Double(setting), value > 0, value.isFinite else {
                throw TrainingError.invalidSetting("FLEDGE_BUCKET_MB is '\(setting)'; set the size of a gradient all-reduce "
                    + "bucket in MiB, e.g. 16")
            }
            megabytes = value
        }
        bucketCapacity = max(1, Int(megabytes * 1_048_576 / Double(MemoryLayout<Float>.size)))
    }

    deinit { staging?.deallocate() }

    /// Replaces each gradient of `parameters` by its mean over the processes.
    public func average(_ parameters: [Parameter], purpose: String) throws {
        guard communicator.size > 1, !parameters.isEmpty else { return }
        let layout = FlatGradientLayout(parameters: parameters)
        let buckets = stride(from: 0, to: layout.total, by: bucketCapacity).map { $0..<min($0 + bucketCapacity, layout.total) }
        let capacity = min(bucketCapacity, layout.total)
        if (staging?.count ?? 0) < capacity {
            staging?.deallocate()
            staging = .allocate(capacity: capacity)
        }
        let staging = staging!
        var presence = [Float](repeating: 0, count: parameters.count)
        for (index, bucket) in buckets.enumerated() {
            let buffer = UnsafeMutableBufferPointer(rebasing: staging[0..<bucket.count])
            layout.pack(bucket, into: buffer)
            try communicator.allReduceSum(buffer, purpose: buckets.count == 1 ? purpose
                                          : "\(purpose) (bucket \(index + 1) of \(buckets.count))")
            layout.unpack(bucket, from: buffer, presence: &presence, scale: 1 / Float(communicator.size))
        }
    }
}

/// The flat vector of a step's gradients: one presence flag per parameter, then every parameter's
/// elements in order.
private struct FlatGradientLayout {
    let parameters: [Parameter]
    /// Where each parameter's elements start in the flat vector.
    let starts: [Int]
    let total: Int

    init(parameters: [Parameter]) {
        self.parameters = parameters
        var starts: [Int] = [], next = parameters.count
        for parameter in parameters {
            starts.append(next)
            next += parameter.tensor.count
        }
        self.starts = starts
        total = next
    }

    /// Copies the flat vector's elements in `range` into `buffer` (zeros for a missing gradient).
    func pack(_ range: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>) {
        for flag in range.clamped(to: 0..<parameters.count) {
            buffer[flag - range.lowerBound] = parameters[flag].tensor.grad == nil ? 0 : 1
        }
        forEachPart(of: range) { index, elements, offset in
            let target = buffer.baseAddress! + offset
            if let grad = parameters[index].tensor.grad {
                grad.withUnsafeElements { source in
                    target.update(from: source.baseAddress! + elements.lowerBound, count: elements.count)
                }
            } else {
                target.update(repeating: 0, count: elements.count)
            }
        }
    }

    /// Writes the summed elements in `range` from `buffer` back, times `scale`, into the gradients
    /// of parameters that any process had one for (read from the flags, which come first).
    func unpack(_ range: Range<Int>, from buffer: UnsafeMutableBufferPointer<Float>, presence: inout [Float], scale: Float) {
        for flag in range.clamped(to: 0..<parameters.count) { presence[flag] = buffer[flag - range.lowerBound] }
        let sums = buffer.baseAddress!
        for position in 0..<range.count { sums[position] *= scale }
        forEachPart(of: range) { index, elements, offset in
            guard presence[index] > 0 else { return }
            let tensor = parameters[index].tensor
            if tensor.grad == nil { tensor.grad = Tensor.zeros(tensor.shape) }
            tensor.grad!.withUnsafeMutableElements { target in
                (target.baseAddress! + elements.lowerBound).update(from: sums + offset, count: elements.count)
            }
        }
    }

    /// Calls `body(parameter, its elements in range, their offset from range's start)` for each
    /// parameter that overlaps `range`.
    private func forEachPart(of range: Range<Int>, _ body: (Int, Range<Int>, Int) -> Void) {
        for (index, start) in starts.enumerated() {
            let span = start..<start + parameters[index].tensor.count
            let overlap = span.clamped(to: range)
            guard !overlap.isEmpty else { continue }
            body(index, overlap.lowerBound - start..<overlap.upperBound - start, overlap.lowerBound - range.lowerBound)
        }
    }
}
