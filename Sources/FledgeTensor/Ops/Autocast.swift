/// The precision of matrix products, as PyTorch's CPU autocast sets it
/// (`torch.autocast("cpu", dtype=torch.bfloat16)`, which a TRL config's `bf16: true` turns on).
public enum ProductPrecision: Sendable, Equatable {
    /// Products of float32 operands, as everything else is computed.
    case float32
    /// Products of operands rounded to bfloat16 (round to nearest even), accumulated in float32, whose
    /// result is rounded to bfloat16 again, as autocast's `linear`/`matmul` compute on the CPU; the
    /// gradients flowing back through a product are bfloat16 too. Everything else (norms, softmax,
    /// the loss, master weights, optimizer state) stays float32.
    case bfloat16
}

/// The precision in force for the current task: `Autocast.$precision.withValue(.bfloat16) { … }`
/// runs a block under bfloat16 autocast, as `with torch.autocast("cpu", dtype=torch.bfloat16):`
/// does. Ops read it on the thread that calls them; the backward pass needs no scope of its own
/// (each op records what it rounded).
public enum Autocast {
    @TaskLocal public static var precision: ProductPrecision = .float32

    /// Whether products are in bfloat16 now.
    public static var isBFloat16: Bool { precision == .bfloat16 }

    /// How this process multiplies bfloat16 operands: `vdpbf16ps` (AVX-512 BF16) or `emulated`
    /// (rounded operands on the float32 kernels); see `BFloat16GEMM`.
    public static var bfloat16Implementation: String { CPU.hasAVX512BF16 ? "vdpbf16ps" : "emulated" }
}

extension Float {
    /// The value rounded to the nearest bfloat16 (ties to even), as a float: what a cast to
    /// `torch.bfloat16` and back gives.
    @inlinable @inline(__always)
    public var roundedToBFloat16: Float {
        let bits = bitPattern
        let rounded = (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000
        return (bits & 0x7FFF_FFFF) > 0x7F80_0000 ? Float(bitPattern: (bits | 0x0040_0000) & 0xFFFF_0000) : Float(bitPattern: rounded)
    }
}

/// Rounds `count` floats to bfloat16 values (kept as floats); `source` and `target` may be the same.
func roundElementsToBFloat16(_ source: UnsafePointer<Float>, _ target: UnsafeMutablePointer<Float>, count: Int) {
    for i in 0..<count { target[i] = source[i].roundedToBFloat16 }
}

extension Tensor {
    /// The tensor rounded to bfloat16 values (still float32 storage): a cast to bfloat16 under
    /// autocast. Its gradient is rounded to bfloat16 too, as autograd casts the gradient of a
    /// bfloat16 tensor to bfloat16; the cast back to float32 is exact, so the rounding of the
    /// gradient is the only effect the backward sees.
    public func roundedToBFloat16() -> Tensor {
        // A transposed matrix (a weight read as Wᵀ) is rounded where it lies and stays a view.
        if rank >= 2, !isContiguous, transposed().isContiguous { return transposed().roundedToBFloat16().transposed() }
        let source = contiguous()
        let out = Tensor(uninitializedShape: shape)
        roundElementsToBFloat16(source.pointer, out.pointer, count: count)
        return out.recording([self], .roundToBFloat16)
    }

    /// `roundedToBFloat16()` when products are in bfloat16 (`Autocast`), the tensor itself otherwise:
    /// for the outputs of the ops that autocast runs in bfloat16 on the CPU (attention, gated units).
    public func roundedUnderAutocast() -> Tensor {
        Autocast.isBFloat16 ? roundedToBFloat16() : self
    }

    /// `matmul(other) + bias` (`bias` broadcast over the rows), as a linear layer computes it:
    /// under bfloat16 `Autocast` the sum of the float32-accumulated product and the bfloat16 bias
    /// is rounded once, as autocast's `addmm`/`linear` does.
    public func matmul(_ other: Tensor, adding bias: Tensor?) -> Tensor {
        guard let bias else { return matmul(other) }
        guard Autocast.isBFloat16 else { return matmul(other) + bias }
        return (bfloat16Product(other) + bias.roundedToBFloat16()).roundedToBFloat16()
    }
}
