import FledgeTensor

/// A LoRA adapter as PEFT computes it (`peft.tuners.lora.Linear`):
/// `delta(x) = dropout(x) · Aᵀ · Bᵀ · scale`, added to the base layer's output — or, with a
/// `magnitude`, DoRA's weight-decomposed form (see `LoRAAdapter+DoRA.swift`).
///
/// `a` is `[rank, inFeatures]` (PEFT's `lora_A.weight`) and `b` is `[outFeatures, rank]`
/// (`lora_B.weight`); both are trainable leaves, while the base weight stays frozen. Dropout
/// applies to the adapter's input only in training (`GradMode.isTraining`), with masks drawn from
/// the adapter's own seeded generator.
public final class LoRAAdapter: LinearAdapter, @unchecked Sendable {
    /// `[rank, inFeatures]`.
    public let a: Tensor
    /// `[outFeatures, rank]`.
    public let b: Tensor
    /// The factor on `B·A`: `lora_alpha / r`, or `lora_alpha / √r` with rank-stabilised LoRA.
    public let scale: Float
    /// The probability of zeroing an input element in training (PEFT's `lora_dropout`).
    public let dropout: Float
    /// DoRA's magnitude vector `[outFeatures]` (PEFT's `lora_magnitude_vector`), a trainable leaf;
    /// nil for plain LoRA.
    public let magnitude: Tensor?
    public var isEnabled = true
    /// The generator of dropout masks; its `state` is saved and restored to replay masks.
    public var dropoutGenerator: SeededGenerator
    /// DoRA's row norms of `W + scale·B·A` for the factors they were computed from.
    let weightNorms = DoRAWeightNormCache()

    /// An adapter with the given factors (and DoRA magnitude), which become its trainable leaves (so
    /// they must be contiguous leaves, updated in place by optimizers).
    public init(a: Tensor, b: Tensor, scale: Float, dropout: Float, dropoutSeed: UInt64, magnitude: Tensor? = nil) {
        precondition(a.rank == 2 && b.rank == 2 && a.shape[0] == b.shape[1],
                     "LoRA needs A [r, in] and B [out, r], got A \(a.shape) and B \(b.shape)")
        precondition(a.isContiguous && b.isContiguous, "LoRA factors must be contiguous")
        precondition(dropout >= 0 && dropout < 1, "LoRA dropout must be in [0, 1), got \(dropout)")
        if let magnitude {
            precondition(magnitude.shape == [b.shape[0]] && magnitude.isContiguous,
                         "DoRA needs a contiguous magnitude [out] = [\(b.shape[0])], got \(magnitude.shape)")
            magnitude.requiresGrad = true
        }
        self.a = a
        self.b = b
        self.magnitude = magnitude
        a.requiresGrad = true
        b.requiresGrad = true
        self.scale = scale
        self.dropout = dropout
        dropoutGenerator = SeededGenerator(seed: dropoutSeed)
    }

    /// A freshly initialised adapter, as PEFT's `init_lora_weights=True` makes it: A drawn
    /// Kaiming-uniform with `a = √5` (uniform in ±1/√inFeatures) from `generator`, B zero, so
    /// the adapted layer starts equal to the base layer. With `doraWeight` (the layer's frozen
    /// weight `[out, in]`), a DoRA adapter whose magnitude starts at that weight's row norms.
    public convenience init(inFeatures: Int, outFeatures: Int, rank: Int, scale: Float, dropout: Float,
                            generator: inout SeededGenerator, doraWeight: Tensor? = nil) {
        precondition(rank > 0, "LoRA rank must be positive, got \(rank)")
        let bound = 1 / Float(inFeatures).squareRoot()
        let a = Tensor.uniform([rank, inFeatures], in: -bound..<bound, using: &generator)
        self.init(a: a, b: Tensor.zeros([outFeatures, rank]), scale: scale, dropout: dropout, dropoutSeed: generator.next(),
                  magnitude: doraWeight.map(Self.rowNorms))
    }

    /// The rank `r`.
    public var rank: Int { a.shape[0] }

    /// The LoRA term for input `x`, `dropout(x) · Aᵀ · Bᵀ · scale`.
    public func delta(_ x: Tensor) -> Tensor {
        product(x.dropout(probability: dropout, using: &dropoutGenerator))
    }

    /// `x · Aᵀ · Bᵀ · scale`. Scaling the rank-wide product rather than the output is one pass over
    /// `[N, rank]` instead of `[N, outFeatures]` (same value up to rounding; PEFT scales the output).
    func product(_ x: Tensor) -> Tensor {
        (x.matmul(a.transposed()) * scale).matmul(b.transposed())
    }

    public func output(base: Tensor, input x: Tensor, layer: Linear) -> Tensor {
        // Under bfloat16 autocast PEFT's sum of the base output and the update is bfloat16.
        magnitude == nil ? (base + delta(x)).roundedUnderAutocast() : doraOutput(base: base, input: x, layer: layer)
    }

    /// `scale · B · A`, `[outFeatures, inFeatures]`: what merging adds to the base weight
    /// (PEFT's `get_delta_weight`).
    public func deltaWeight() -> Tensor {
        // Merging is float32 whatever the training's precision, as PEFT's is.
        Autocast.$precision.withValue(.float32) { Tensor.withoutGrad { b.matmul(a) * scale } }
    }

    /// The weight merging leaves in the layer in place of `base` (`[out, in]`): `base + scale·B·A`,
    /// and with DoRA each row then rescaled to its magnitude, as PEFT's `merge_and_unload` does.
    public func mergedWeight(base: Tensor) -> Tensor {
        Tensor.withoutGrad {
            let combined = base + deltaWeight()
            guard let magnitude else { return combined }
            return combined * (magnitude / Self.rowNorms(combined)).reshaped([magnitude.count, 1])
        }
    }

    /// The L2 norm of each row of `weight [out, in]`, `[out]`, without gradient.
    static func rowNorms(_ weight: Tensor) -> Tensor {
        Tensor.withoutGrad { (weight * weight).sum(axis: 1).sqrt() }
    }
}
