import FledgeNN
import FledgeTensor

/// Self-attention with rotary position embeddings and grouped-query heads (`self_attn`): the
/// `q_proj`, `k_proj`, `v_proj` and `o_proj` projections, optionally an RMSNorm over each head of
/// q and k before the rotary embedding (`q_norm`, `k_norm`, `[head_dim]`), and optionally a
/// sliding window; optionally (Gemma) its own score scale, soft-capped scores and its own rotary
/// table. In inference q, k and v are one fused product.
final class Attention: Module, WeightFusing, @unchecked Sendable {
    let qProj, kProj, vProj, oProj: Linear
    let qNorm, kNorm: RMSNorm?
    let heads, kvHeads, headDim: Int
    /// How many positions back a query sees (itself included), or nil for every earlier position.
    let slidingWindow: Int?
    /// q, k and v as one product (inference).
    let qkv: FusedProjection
    /// What q·kᵀ is multiplied by, or nil for `1 / √head_dim`.
    let scale: Float?
    /// The soft cap of the scores (`cap · tanh(score / cap)`), or nil for none.
    let scoreSoftCap: Float?
    /// This layer's rotary table when it differs from the model's (Gemma 3's local layers), else nil.
    let rotary: RotaryTable?

    /// Attention of `config`'s shape with placeholder weights: biases on q, k and v (`qkvBias`) and
    /// on o (`outputBias`), per-head q/k norms when `qkNorm` (scaling by `qkNormWeightOffset + weight`),
    /// scores times `scale` (nil: `1 / √head_dim`) and soft-capped at `scoreSoftCap`, rotated by
    /// `rotary` instead of the model's table when given.
    init(config: ModelConfig, qkvBias: Bool, outputBias: Bool, qkNorm: Bool, slidingWindow: Int?,
         qkNormWeightOffset: Float = 0, scale: Float? = nil, scoreSoftCap: Float? = nil, rotary: RotaryTable? = nil) {
        let (h, q, kv) = (config.hiddenSize, config.heads * config.headDim, config.kvHeads * config.headDim)
        qProj = Linear(inFeatures: h, outFeatures: q, bias: qkvBias)
        kProj = Linear(inFeatures: h, outFeatures: kv, bias: qkvBias)
        vProj = Linear(inFeatures: h, outFeatures: kv, bias: qkvBias)
        oProj = Linear(inFeatures: q, outFeatures: h, bias: outputBias)
        qNorm = qkNorm ? RMSNorm(dimension: config.headDim, eps: config.rmsNormEps, weightOffset: qkNormWeightOffset) : nil
        kNorm = qkNorm ? RMSNorm(dimension: config.headDim, eps: config.rmsNormEps, weightOffset: qkNormWeightOffset) : nil
        (heads, kvHeads, headDim) = (config.heads, config.kvHeads, config.headDim)
        self.slidingWindow = slidingWindow
        qkv = FusedProjection([qProj, kProj, vProj])
        (self.scale, self.scoreSoftCap, self.rotary) = (scale, scoreSoftCap, rotary)
    }

    func members(_ visitor: ModuleVisitor) {
        visitor.child("q_proj", qProj)
        visitor.child("k_proj", kProj)
        visitor.child("v_proj", vProj)
        visitor.child("o_proj", oProj)
        if let qNorm, let kNorm {
            visitor.child("q_norm", qNorm)
            visitor.child("k_norm", kNorm)
        }
    }

    func fuseWeights() { qkv.fuse() }

    /// `[batch, length, hidden]` (normalised) in, the attention output after `o_proj` out. With a
    /// cache, the new keys and values are appended to layer `layer` of it.
    func callAsFunction(_ x: Tensor, _ pass: DecoderPass, layer: Int) -> Tensor {
        let (b, t) = (pass.input.batch, pass.input.length)
        let projected = qkv(x)
        var q = projected[0].reshaped([b, t, heads, headDim])
        var k = projected[1].reshaped([b, t, kvHeads, headDim])
        let v = projected[2].reshaped([b, t, kvHeads, headDim])
        if let qNorm, let kNorm {
            q = qNorm(q)
            k = kNorm(k)
        }
        let table = rotary ?? pass.rotary
        q = Tensor.rotaryEmbedding(q, positions: pass.input.positions, table: table)
        k = Tensor.rotaryEmbedding(k, positions: pass.input.positions, table: table)
        let (keys, values) = pass.cache?.append(layer: layer, keys: k, values: v, at: pass.start) ?? (k, v)
        let mask = AttentionMask(causal: true, keyPadding: pass.input.keyPadding, slidingWindow: slidingWindow)
        let attended = Tensor.scaledDotProductAttention(query: q, key: keys, value: values, mask: mask, scale: scale,
                                                        softCap: scoreSoftCap)
        return oProj(attended.reshaped([b, t, heads * headDim]))
    }
}
