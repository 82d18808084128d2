import CFledgeKernels
import Foundation

/// What the processor offers the kernels.
enum CPU {
    /// Whether the AVX2 + FMA kernels of `CFledgeKernels` run: the CPU has them and
    /// `FLEDGE_DISABLE_AVX2` is not set to 1 (checked once, at first use). When false, every
    /// kernel takes its portable Swift path.
    static let hasAVX2 = fledge_cpu_has_avx2_fma() != 0 && ProcessInfo.processInfo.environment["FLEDGE_DISABLE_AVX2"] != "1"
}
