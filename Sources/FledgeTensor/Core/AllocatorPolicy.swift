import CFledgeKernels
import Foundation

/// How a process asks glibc's allocator to treat large buffers (the `fledge` command applies it with
/// `FLEDGE_LEAN_MEMORY=1`).
///
/// glibc serves a block above its mmap threshold with its own `mmap`, returned to the system when
/// freed; below it, from the heap, whose freed pages stay resident. The threshold starts at 128 KiB
/// but rises to the size of each larger mmapped block freed (up to 32 MiB), so after the first
/// training pass frees its activations, the next pass's activation buffers (a few hundred KiB to a
/// few MiB each) come from the heap and the process keeps them resident after they are freed: peak
/// resident memory 1.3–1.5 GB above the engine's own peak of live buffers in the reward, KTO and
/// distillation benchmarks. A fixed 1 MiB threshold keeps every buffer of 1 MiB or more mmapped (and
/// turns the dynamic rise off), at the cost of a fresh mapping and its page faults per large buffer:
/// measured on the reward-modelling benchmark, peak RSS 3.6 → 2.0 GB for a step 25 % slower (16.0 →
/// 20.1 s), which is why it is opt-in (docs/engine.md).
public enum AllocatorPolicy {
    /// The fixed threshold: buffers of at least this many bytes are mapped on their own.
    public static let mmapThresholdBytes: Int32 = 1 << 20

    /// Sets the threshold, unless the user set glibc's own `MALLOC_MMAP_THRESHOLD_`. Elsewhere than
    /// glibc it does nothing.
    public static func apply() {
        guard ProcessInfo.processInfo.environment["MALLOC_MMAP_THRESHOLD_"] == nil else { return }
        _ = fledge_set_mmap_threshold(mmapThresholdBytes)
    }
}
