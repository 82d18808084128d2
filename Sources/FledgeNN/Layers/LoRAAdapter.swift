import FledgeTensor

/// A LoRA adapter as PEFT computes it (`peft.tuners.lora.Linear`):
/// `delta(x) = dropout(x) · Aᵀ · Bᵀ · scale`, added to the base layer's output.
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
    public var isEnabled = true
    /// The generator of dropout masks; its `state` is saved and restored to replay masks.
    public var dropoutGenerator: SeededGenerator

    /// An adapter with the given factors, which become its trainable leaves (so they must be
    /// contiguous leaves, updated in place by optimizers).
    public init(a: Tensor, b: Tensor, scale: Float, dropout: Float, dropoutSeed: UInt64) {
        precondition(a.rank == 2 && b.rank == 2 && a.shape[0] == b.shape[1],
                     "LoRA needs A [r, in] and B [out, r], got A \(a.shape) and B \(b.shape)")
        precondition(a.isContiguous && b.isContiguous, "LoRA factors must be contiguous")
        precondition(dropout >= 0 && dropout < 1, "LoRA dropout must be in [0, 1), got \(dropout)")
        self.a = a
        self.b = b
        a.requiresGrad = true
        b.requiresGrad = true
        self.scale = scale
        self.dropout = dropout
        dropoutGenerator = SeededGenerator(seed: dropoutSeed)
    }

    /// A freshly initialised adapter, as PEFT's `init_lora_weights=True` makes it: A drawn
    /// Kaiming-uniform with `a = √5` (uniform in ±1/√inFeatures) from `generator`, B zero, so
    /// the adapted layer starts equal to the base layer.
    public convenience init(inFeatures: Int, outFeatures: Int, rank: Int, scale: Float, dropout: Float,
                            generator: inout SeededGenerator) {
        precondition(rank > 0, "LoRA rank must be positive, got \(rank)")
        let bound = 1 / Float(inFeatures).squareRoot()
        let a = Tensor.uniform([rank, inFeatures], in: -bound..<bound, using: &generator)
        self.init(a: a, b: Tensor.zeros([outFeatures, rank]), scale: scale, dropout: dropout, dropoutSeed: generator.next())
    }

    /// The rank `r`.
    public var rank: Int { a.shape[0] }

    public func delta(_ x: Tensor) -> Tensor {
        let input = x.dropout(probability: dropout, using: &dropoutGenerator)
        // Scaling the rank-wide product rather than the output is one pass over `[N, rank]`
        // instead of `[N, outFeatures]` (same value up to rounding; PEFT scales the output).
        return (input.matmul(a.transposed()) * scale).matmul(b.transposed())
    }

    /// `scale · B · A`, `[outFeatures, inFeatures]`: what merging adds to the base weight
    /// (PEFT's `get_delta_weight`).
    public func deltaWeight() -> Tensor {
        Tensor.withoutGrad { b.matmul(a) * scale }
    }
}
