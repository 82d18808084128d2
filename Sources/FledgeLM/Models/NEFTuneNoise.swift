import FledgeTensor

/// NEFTune (arXiv 2310.05914) as transformers 5.25 applies it (`neftune_post_forward_hook` on the
/// input embeddings): in training passes only, uniform noise in `±alpha / √(L · d)` is added to the
/// embeddings `[batch, L, d]`, where `L` is the pass's sequence length — the padded length of a
/// batch, or every token of a padding-free pass — and `d` the hidden size. Evaluation, scoring
/// without gradients and generation see the embeddings unchanged, unless `noisesPassesWithoutGrad`:
/// DPO's and KTO's passes without gradients through the trained model (the reference with adapters
/// off, KTO's KL pass) run in TRL's training mode, where the hook noises them too.
///
/// Departure: the noise is drawn from Fledge's seeded generator, not PyTorch's, so its values
/// differ from a TRL run's; its distribution is the same.
public struct NEFTuneNoise: Sendable {
    /// The noise scale α (`neftune_noise_alpha`).
    public let alpha: Float
    /// Where the noise is drawn from; its state continues across passes.
    public var generator: SeededGenerator
    /// Whether passes without gradients are noised too (TRL's no-grad forwards in training mode).
    public let noisesPassesWithoutGrad: Bool

    public init(alpha: Float, seed: UInt64, noisesPassesWithoutGrad: Bool = false) {
        self.alpha = alpha
        generator = SeededGenerator(seed: seed)
        self.noisesPassesWithoutGrad = noisesPassesWithoutGrad
    }

    /// The half-width of the noise for embeddings of `length` tokens of `width` values each.
    public func magnitude(length: Int, width: Int) -> Float {
        alpha / Float(length * width).squareRoot()
    }

    /// `embeddings` `[batch, length, hidden]` with the noise added in a training pass (`GradMode.isTraining`),
    /// or in any pass when `noisesPassesWithoutGrad`.
    mutating func apply(to embeddings: Tensor) -> Tensor {
        guard GradMode.isTraining || noisesPassesWithoutGrad, alpha > 0 else { return embeddings }
        let bound = magnitude(length: embeddings.shape[1], width: embeddings.shape[2])
        return embeddings + Tensor.uniform(embeddings.shape, in: -bound..<bound, using: &generator)
    }
}
