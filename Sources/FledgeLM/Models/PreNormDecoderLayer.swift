import FledgeNN
import FledgeTensor

/// The Llama block: the residual stream plus attention of its RMSNorm (`input_layernorm`,
/// `self_attn`), then plus the MLP of its RMSNorm (`post_attention_layernorm`, `mlp`). Llama,
/// Mistral, Qwen2, Qwen3 and SmolLM3 build their layers from it, each with its own attention
/// settings; Phi-3 with its fused-projection attention and MLP.
final class PreNormDecoderLayer<SelfAttention: SelfAttentionBlock, MLP: MLPBlock>: DecoderLayer, @unchecked Sendable {
    let attention: SelfAttention
    let mlp: MLP
    let inputNorm, postAttentionNorm: RMSNorm

    /// A layer of `attention` and `mlp` with placeholder norm weights of `config`'s shape.
    init(config: ModelConfig, attention: SelfAttention, mlp: MLP) {
        self.attention = attention
        self.mlp = mlp
        inputNorm = RMSNorm(dimension: config.hiddenSize, eps: config.rmsNormEps)
        postAttentionNorm = RMSNorm(dimension: config.hiddenSize, eps: config.rmsNormEps)
    }

    /// In transformers' order: attention, MLP, then the two norms.
    func members(_ visitor: ModuleVisitor) {
        visitor.child("self_attn", attention)
        visitor.child("mlp", mlp)
        visitor.child("input_layernorm", inputNorm)
        visitor.child("post_attention_layernorm", postAttentionNorm)
    }

    var slidingWindow: Int? { attention.slidingWindow }

    func callAsFunction(_ x: Tensor, _ pass: DecoderPass, layer: Int) -> Tensor {
        let h = x + attention(inputNorm(x), pass, layer: layer)
        return h + mlp(postAttentionNorm(h))
    }
}
