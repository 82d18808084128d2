import FledgeNN
import FledgeTensor

/// The OLMo 2 block: no norm before attention or the MLP; their outputs are normalised before
/// they join the residual stream: the stream plus the RMSNorm of attention
/// (`self_attn`, `post_attention_layernorm`), then plus the RMSNorm of the MLP (`mlp`,
/// `post_feedforward_layernorm`).
final class PostNormDecoderLayer: DecoderLayer, @unchecked Sendable {
    let attention: Attention
    let mlp: GatedMLP
    let postAttentionNorm, postFeedforwardNorm: RMSNorm

    /// A layer of `attention` and `mlp` with placeholder norm weights of `config`'s shape.
    init(config: ModelConfig, attention: Attention, mlp: GatedMLP) {
        self.attention = attention
        self.mlp = mlp
        postAttentionNorm = RMSNorm(dimension: config.hiddenSize, eps: config.rmsNormEps)
        postFeedforwardNorm = RMSNorm(dimension: config.hiddenSize, eps: config.rmsNormEps)
    }

    /// In transformers' order: attention, MLP, then the two norms.
    func members(_ visitor: ModuleVisitor) {
        visitor.child("self_attn", attention)
        visitor.child("mlp", mlp)
        visitor.child("post_attention_layernorm", postAttentionNorm)
        visitor.child("post_feedforward_layernorm", postFeedforwardNorm)
    }

    var slidingWindow: Int? { attention.slidingWindow }

    func callAsFunction(_ x: Tensor, _ pass: DecoderPass, layer: Int) -> Tensor {
        let h = x + postAttentionNorm(attention(x, pass, layer: layer))
        return h + postFeedforwardNorm(mlp(h))
    }
}
