import CFledgeKernels
import Foundation

/// Elementwise kernels with an exp inside, from the kernel set `kernels` (by default the one the
/// process uses, `CPU.kernelSet`): the AVX-512 versions (`CFledgeKernels/vector_math_avx512.c`),
/// the AVX2 ones (`vector_math_avx2.c`), or `PortableVectorMath`.
enum VectorMath {
    /// y = exp(x·scale + shift); `x` and `y` may alias.
    static func expAffine(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, scale: Float = 1, shift: Float = 0,
        kernels: KernelSet = CPU.kernelSet
    ) {
        switch kernels {
        case .avx512, .avx512VNNI: fledge_exp_affine_avx512(x, y, n, scale, shift)
        case .avx2: fledge_exp_affine(x, y, n, scale, shift)
        case .portable: PortableVectorMath.expAffine(x, y, n, scale: scale, shift: shift)
        }
    }

    /// Replaces the row by softmax(x·scale) (−inf entries become 0; at least one must be finite)
    /// and returns log Σ exp(x·scale).
    static func softmaxRow(_ x: UnsafeMutablePointer<Float>, _ n: Int, scale: Float, kernels: KernelSet = CPU.kernelSet) -> Float {
        switch kernels {
        case .avx512, .avx512VNNI: return fledge_softmax_row_avx512(x, n, scale)
        case .avx2: return fledge_softmax_row(x, n, scale)
        case .portable: return PortableVectorMath.softmaxRow(x, n, scale: scale)
        }
    }

    /// out = act(gate) · up: SiLU for SwiGLU, GELU-tanh(x) = 0.5 x (1 + tanh(√(2/π)(x + 0.044715 x³)))
    /// for GeGLU.
    static func gatedLinearUnitForward(
        _ activation: GateActivation, _ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int,
        kernels: KernelSet = CPU.kernelSet
    ) {
        switch (activation, kernels) {
        case (.silu, .avx512), (.silu, .avx512VNNI): fledge_swiglu_forward_avx512(gate, up, out, n)
        case (.silu, .avx2): fledge_swiglu_forward(gate, up, out, n)
        case (.silu, .portable): PortableVectorMath.swiGLUForward(gate, up, out, n)
        case (.geluTanh, .avx512), (.geluTanh, .avx512VNNI): fledge_geglu_forward_avx512(gate, up, out, n)
        case (.geluTanh, .avx2): fledge_geglu_forward(gate, up, out, n)
        case (.geluTanh, .portable): PortableVectorMath.geGLUForward(gate, up, out, n)
        }
    }

    /// d gate = g · up · act'(gate), d up = g · act(gate); nil outputs are skipped.
    static func gatedLinearUnitBackward(
        _ activation: GateActivation, _ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>, _ grad: UnsafePointer<Float>,
        _ dGate: UnsafeMutablePointer<Float>?, _ dUp: UnsafeMutablePointer<Float>?, _ n: Int, kernels: KernelSet = CPU.kernelSet
    ) {
        switch (activation, kernels) {
        case (.silu, .avx512), (.silu, .avx512VNNI): fledge_swiglu_backward_avx512(gate, up, grad, dGate, dUp, n)
        case (.silu, .avx2): fledge_swiglu_backward(gate, up, grad, dGate, dUp, n)
        case (.silu, .portable): PortableVectorMath.swiGLUBackward(gate, up, grad, dGate, dUp, n)
        case (.geluTanh, .avx512), (.geluTanh, .avx512VNNI): fledge_geglu_backward_avx512(gate, up, grad, dGate, dUp, n)
        case (.geluTanh, .avx2): fledge_geglu_backward(gate, up, grad, dGate, dUp, n)
        case (.geluTanh, .portable): PortableVectorMath.geGLUBackward(gate, up, grad, dGate, dUp, n)
        }
    }

    /// Running softmax statistics of v = z·scale: the maximum, Σ exp(v − max) and
    /// Σ exp(v − max)·v, updated with `n` more values.
    struct SoftmaxStats {
        var maximum = -Float.infinity
        var sum: Float = 0
        var weighted: Float = 0

        /// Adds `n` values; when `weights` is given, also writes exp(v − maximum) for the new
        /// maximum into it (it may be `z` itself).
        mutating func add(
            _ z: UnsafePointer<Float>, _ n: Int, scale: Float, weights: UnsafeMutablePointer<Float>? = nil,
            kernels: KernelSet = CPU.kernelSet
        ) {
            switch kernels {
            case .avx512, .avx512VNNI: fledge_softmax_stats_avx512(z, n, scale, &maximum, &sum, &weighted, weights)
            case .avx2: fledge_softmax_stats(z, n, scale, &maximum, &sum, &weighted, weights)
            case .portable: addPortably(z, n, scale: scale, weights: weights)
            }
        }

        /// The portable `add`.
        mutating func addPortably(_ z: UnsafePointer<Float>, _ n: Int, scale: Float, weights: UnsafeMutablePointer<Float>? = nil) {
            var blockMax = -Float.infinity
            for i in 0..<n { blockMax = Swift.max(blockMax, z[i] * scale) }
            let newMax = Swift.max(maximum, blockMax)
            guard newMax > -.infinity else { return }
            let rescale = maximum == -.infinity ? 0 : Foundation.exp(maximum - newMax)
            var blockSum: Float = 0, blockWeighted: Float = 0
            for i in 0..<n {
                let value = z[i] * scale, e = Foundation.exp(value - newMax)
                weights?[i] = e
                blockSum += e
                blockWeighted += e * value
            }
            sum = sum * rescale + blockSum
            weighted = weighted * rescale + blockWeighted
            maximum = newMax
        }

        /// log Σ exp(v).
        var logSumExp: Float { maximum + Foundation.log(sum) }
        /// The entropy −Σ p log p of softmax(v).
        var entropy: Float { logSumExp - weighted / sum }
    }

    /// Replaces z by d/dz of gLogP·log p(target) + gEntropy·H, where v = z·scale and
    /// p = exp(v − lse); the target's own +gLogP·scale is left to the caller.
    static func selectiveSoftmaxGrad(
        _ z: UnsafeMutablePointer<Float>, _ n: Int, scale: Float, logSumExp lse: Float, entropy: Float,
        gradLogProb: Float, gradEntropy: Float, kernels: KernelSet = CPU.kernelSet
    ) {
        switch kernels {
        case .avx512, .avx512VNNI: fledge_selective_softmax_grad_avx512(z, n, scale, lse, entropy, gradLogProb, gradEntropy)
        case .avx2: fledge_selective_softmax_grad(z, n, scale, lse, entropy, gradLogProb, gradEntropy)
        case .portable:
            PortableVectorMath.selectiveSoftmaxGrad(z, n, scale: scale, logSumExp: lse, entropy: entropy,
                                                    gradLogProb: gradLogProb, gradEntropy: gradEntropy)
        }
    }
}

/// The plain Swift versions of `VectorMath`: the specification of each C kernel, used on
/// CPUs without AVX2 and as the reference in tests.
enum PortableVectorMath {
    static func expAffine(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, scale: Float, shift: Float) {
        for i in 0..<n { y[i] = Foundation.exp(x[i] * scale + shift) }
    }

    static func softmaxRow(_ x: UnsafeMutablePointer<Float>, _ n: Int, scale: Float) -> Float {
        var peak = -Float.infinity
        for i in 0..<n { peak = Swift.max(peak, x[i]) }
        var total: Float = 0
        for i in 0..<n {
            x[i] = Foundation.exp(x[i] * scale - peak * scale)
            total += x[i]
        }
        for i in 0..<n { x[i] /= total }
        return peak * scale + Foundation.log(total)
    }

    static func swiGLUForward(_ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { out[i] = gate[i] * UnaryKernel.sigmoid(gate[i]) * up[i] }
    }

    static func swiGLUBackward(
        _ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>, _ grad: UnsafePointer<Float>,
        _ dGate: UnsafeMutablePointer<Float>?, _ dUp: UnsafeMutablePointer<Float>?, _ n: Int
    ) {
        for i in 0..<n {
            let s = UnaryKernel.sigmoid(gate[i])
            dGate?[i] = grad[i] * up[i] * s * (1 + gate[i] * (1 - s))
            dUp?[i] = grad[i] * gate[i] * s
        }
    }

    /// GELU-tanh(x) = x · σ(2u) with u = √(2/π)(x + 0.044715 x³), as 1 + tanh(u) = 2σ(2u); returns
    /// σ(2u) and d(2u)/dx.
    @inline(__always)
    private static func geluTanhGate(_ x: Float) -> (gate: Float, slope: Float) {
        let k: Float = 2 * 0.7978845608028654, c: Float = 0.044715
        let square = x * x
        return (UnaryKernel.sigmoid(k * x * (1 + c * square)), k * (1 + 3 * c * square))
    }

    static func geGLUForward(_ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { out[i] = gate[i] * geluTanhGate(gate[i]).gate * up[i] }
    }

    static func geGLUBackward(
        _ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>, _ grad: UnsafePointer<Float>,
        _ dGate: UnsafeMutablePointer<Float>?, _ dUp: UnsafeMutablePointer<Float>?, _ n: Int
    ) {
        for i in 0..<n {
            let x = gate[i], (s, slope) = geluTanhGate(x)
            // d (x σ(v))/dx = σ(v) + x σ(v)(1 − σ(v)) dv/dx
            dGate?[i] = grad[i] * up[i] * (s + x * s * (1 - s) * slope)
            dUp?[i] = grad[i] * x * s
        }
    }

    static func selectiveSoftmaxGrad(
        _ z: UnsafeMutablePointer<Float>, _ n: Int, scale: Float, logSumExp lse: Float, entropy: Float,
        gradLogProb: Float, gradEntropy: Float
    ) {
        for i in 0..<n {
            let value = z[i] * scale, p = Foundation.exp(value - lse)
            z[i] = p * (-gradLogProb * scale - gradEntropy * scale * (value - lse + entropy))
        }
    }
}
