import FledgeNN
import FledgeTensor

/// The Gemma block: each sub-block is wrapped in two RMSNorms, one before and one after it —
/// the residual stream plus the post-attention norm (`post_attention_layernorm`) of attention of
/// its input norm (`input_layernorm`, `self_attn`), then plus the post-feedforward norm
/// (`post_feedforward_layernorm`) of the MLP of its pre-feedforward norm
/// (`pre_feedforward_layernorm`, `mlp`). Gemma 2 and Gemma 3 build their layers from it, with
/// `(1 + w)` norms.
final class SandwichNormDecoderLayer: DecoderLayer, @unchecked Sendable {
    let attention: Attention
    let mlp: GatedMLP
    let inputNorm, postAttentionNorm, preFeedforwardNorm, postFeedforwardNorm: RMSNorm

    /// A layer of `attention` and `mlp` with placeholder norm weights of `config`'s shape, each
    /// norm scaling by `weightOffset + weight`.
    init(config: ModelConfig, attention: Attention, mlp: GatedMLP, normWeightOffset: Float) {
        self.attention = attention
        self.mlp = mlp
        func norm() -> RMSNorm { RMSNorm(dimension: config.hiddenSize, eps: config.rmsNormEps, weightOffset: normWeightOffset) }
        (inputNorm, postAttentionNorm, preFeedforwardNorm, postFeedforwardNorm) = (norm(), norm(), norm(), norm())
    }

    /// In transformers' order: attention, MLP, then the four norms.
    func members(_ visitor: ModuleVisitor) {
        visitor.child("self_attn", attention)
        visitor.child("mlp", mlp)
        visitor.child("input_layernorm", inputNorm)
        visitor.child("post_attention_layernorm", postAttentionNorm)
        visitor.child("pre_feedforward_layernorm", preFeedforwardNorm)
        visitor.child("post_feedforward_layernorm", postFeedforwardNorm)
    }

    var slidingWindow: Int? { attention.slidingWindow }

    func callAsFunction(_ x: Tensor, _ pass: DecoderPass, layer: Int) -> Tensor {
        let h = x + postAttentionNorm(attention(inputNorm(x), pass, layer: layer))
        return h + postFeedforwardNorm(mlp(preFeedforwardNorm(h)))
    }
}
