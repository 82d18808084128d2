import CFledgeKernels
import Foundation

/// What the processor offers the kernels.
enum CPU {
    /// Whether the AVX2 + FMA kernels of `CFledgeKernels` run: the CPU has them and
    /// `FLEDGE_DISABLE_AVX2` is not set to 1 (checked once, at first use). When false, every
    /// kernel takes its portable Swift path.
    static let hasAVX2 = fledge_cpu_has_avx2_fma() != 0 && ProcessInfo.processInfo.environment["FLEDGE_DISABLE_AVX2"] != "1"

    /// Whether the AVX-512 kernels run (F, BW, DQ and VL): AVX2 runs, the CPU has them and
    /// `FLEDGE_DISABLE_AVX512` is not set to 1, which forces the AVX2 set.
    static let hasAVX512 = hasAVX2 && fledge_cpu_has_avx512() != 0
        && ProcessInfo.processInfo.environment["FLEDGE_DISABLE_AVX512"] != "1"

    /// Whether the AVX-512 VNNI kernels (vpdpbusd) run: AVX-512 runs and the CPU has VNNI.
    static let hasAVX512VNNI = hasAVX512 && fledge_cpu_has_avx512_vnni() != 0

    /// Whether the bfloat16 products use `vdpbf16ps` (`BFloat16GEMM`): AVX-512 runs, the CPU has
    /// AVX-512 BF16 and `FLEDGE_DISABLE_AVX512_BF16` is not set to 1, which forces the exact-rounding
    /// emulation on the float32 kernels.
    static let hasAVX512BF16 = hasAVX512 && fledge_cpu_has_avx512_bf16() != 0
        && ProcessInfo.processInfo.environment["FLEDGE_DISABLE_AVX512_BF16"] != "1"

    /// The most capable kernel set this process uses.
    static let kernelSet: KernelSet = hasAVX512VNNI ? .avx512VNNI : hasAVX512 ? .avx512 : hasAVX2 ? .avx2 : .portable
}

/// The kernel sets, from the portable Swift twins (the reference the tests compare with) to the
/// AVX-512 VNNI kernels; each set runs where the CPU has its instructions and uses the best
/// kernel of the sets below it for what it has no kernel of its own. Chosen once per process
/// (`CPU.kernelSet`); `FLEDGE_DISABLE_AVX512=1` and `FLEDGE_DISABLE_AVX2=1` force a lower set.
enum KernelSet: Int, Comparable, CaseIterable, Sendable {
    case portable, avx2, avx512, avx512VNNI

    static func < (lhs: KernelSet, rhs: KernelSet) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Whether this CPU (and the environment switches) let the set run.
    var isAvailable: Bool { self <= CPU.kernelSet }

    /// The instructions the set needs, as `/proc/cpuinfo` names them (for skipped tests).
    var requiredFeatures: String {
        switch self {
        case .portable: return "none"
        case .avx2: return "avx2 fma f16c"
        case .avx512: return "avx512f avx512bw avx512dq avx512vl"
        case .avx512VNNI: return "avx512f avx512bw avx512dq avx512vl avx512_vnni"
        }
    }
}
