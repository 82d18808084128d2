import FledgeTensor

/// A fully connected layer, `y = x · Wᵀ + b`, with the weight stored as Hugging Face and PyTorch
/// store it: `[outFeatures, inFeatures]`.
///
/// The product reads `Wᵀ` in place (a transposed view; the GEMM packs or streams it), so a
/// checkpoint's weight is used as loaded, memory-mapped when it is float32. This is the one
/// place every projection of a model goes through, so an adapter (LoRA) plugs in here:
/// `adapter`, when set, adds its output to the base product.
public final class Linear: Module, @unchecked Sendable {
    /// `[outFeatures, inFeatures]`.
    public var weight: Tensor
    /// `[outFeatures]`, or nil for a layer without bias.
    public var bias: Tensor?
    /// An extra term added to the output while it `isEnabled` (a LoRA adapter), or nil.
    public var adapter: (any LinearAdapter)?
    /// The frozen weight in a block-quantized format, once `useQuantized` has run: products then
    /// read it (dequantizing as they go), and `weight` is a placeholder of the same shape that
    /// holds no memory.
    public private(set) var quantizedWeight: QuantizedMatrix?

    public init(weight: Tensor, bias: Tensor? = nil) {
        precondition(weight.rank == 2, "Linear needs a [out, in] weight, got \(weight.shape)")
        if let bias { precondition(bias.shape == [weight.shape[0]], "Linear: bias \(bias.shape) for weight \(weight.shape)") }
        self.weight = weight
        self.bias = bias
    }

    /// A layer of the given size whose weight (and bias) are placeholders, to be loaded.
    public convenience init(inFeatures: Int, outFeatures: Int, bias: Bool) {
        self.init(weight: Tensor.placeholder([outFeatures, inFeatures]), bias: bias ? Tensor.placeholder([outFeatures]) : nil)
    }

    /// `weight`, and `bias` when the layer has one.
    public func members(_ visitor: ModuleVisitor) {
        visitor.parameter("weight", &weight)
        if bias != nil { visitor.parameter("bias", &bias!) }
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    /// Makes `quantized` (`[outFeatures, inFeatures]`) this layer's frozen weight.
    public func useQuantized(_ quantized: QuantizedMatrix) {
        precondition(quantized.shape == weight.shape, "Linear: quantized weight \(quantized.shape) for \(weight.shape)")
        quantizedWeight = quantized
        weight = Tensor.placeholder(weight.shape)
    }

    /// The weight in float32: `weight`, or the quantized weight dequantized.
    public var denseWeight: Tensor { quantizedWeight?.dequantized() ?? weight }

    /// `x [..., inFeatures]` → `[..., outFeatures]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        guard let quantizedWeight else { return adapted(x.matmul(weight.transposed(), adding: bias), input: x) }
        return adapted(x.matmul(transposedQuantized: quantizedWeight, adding: bias), input: x)
    }

    /// `x · Wᵀ` without the bias, reading the quantized weight when there is one.
    public func product(_ x: Tensor) -> Tensor {
        if let quantizedWeight { x.matmul(transposedQuantized: quantizedWeight) } else { x.matmul(weight.transposed()) }
    }

    /// The layer's output for input `x` given `base`, its `x · Wᵀ + b` however it was computed: what
    /// the adapter makes of it while enabled, `base` itself otherwise.
    public func adapted(_ base: Tensor, input x: Tensor) -> Tensor {
        guard let adapter, adapter.isEnabled else { return base }
        return adapter.output(base: base, input: x, layer: self)
    }
}

/// What changes a `Linear` layer's output as a function of its input and base output (LoRA adds
/// `B·A·x·scale`; DoRA also rescales the rows).
public protocol LinearAdapter: AnyObject, Sendable {
    /// Whether the layer uses the adapter now; switching it off gives the base layer back without a
    /// second copy of its weights.
    var isEnabled: Bool { get }
    /// The adapted output `[..., outFeatures]` for input `x [..., inFeatures]`, given `base`, the
    /// layer's own `x · Wᵀ + b`.
    func output(base: Tensor, input x: Tensor, layer: Linear) -> Tensor
}
