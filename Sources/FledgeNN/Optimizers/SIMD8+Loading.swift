#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

extension SIMD8<Float> {
    /// The first `count` floats at `source` (all eight when `count` ≥ 8; no alignment needed),
    /// the other lanes zero.
    @inline(__always)
    init(loading source: UnsafePointer<Float>, count: Int) {
        if count >= 8 {
            self = UnsafeRawPointer(source).loadUnaligned(as: Self.self)
        } else {
            self = .zero
            for lane in 0..<count { self[lane] = source[lane] }
        }
    }

    /// Writes the first `count` lanes (all eight when `count` ≥ 8) to `target`.
    @inline(__always)
    func store(to target: UnsafeMutablePointer<Float>, count: Int) {
        if count >= 8 {
            UnsafeMutableRawPointer(target).storeBytes(of: self, as: Self.self)
        } else {
            for lane in 0..<count { target[lane] = self[lane] }
        }
    }

    /// The correctly rounded square root of each lane. `squareRoot()` on Linux goes lane by lane
    /// through libm's errno-setting `sqrtf`; this uses SSE's `sqrtps` on x86-64.
    @inline(__always)
    func laneSquareRoot() -> Self {
        #if arch(x86_64)
        Self(lowHalf: _mm_sqrt_ps(lowHalf), highHalf: _mm_sqrt_ps(highHalf))
        #else
        squareRoot()
        #endif
    }
}
