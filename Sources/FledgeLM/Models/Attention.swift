import FledgeNN
import FledgeTensor

/// Self-attention with rotary position embeddings and grouped-query heads (`self_attn`): the
/// `q_proj`, `k_proj`, `v_proj` and `o_proj` projections, optionally an RMSNorm over each head of
/// q and k before the rotary embedding (`q_norm`, `k_norm`, `[head_dim]`; OLMo 2: over the whole
/// q and k projections, `[heads · head_dim]` and `[kv_heads · head_dim]`), and optionally a
/// sliding window; a NoPE layer (SmolLM3) has no rotary embedding; optionally (Gemma) its own score
/// scale, soft-capped scores and its own rotary table. In inference q, k and v are one fused product.
final class Attention: SelfAttentionBlock, WeightFusing, @unchecked Sendable {
    let qProj, kProj, vProj, oProj: Linear
    let qNorm, kNorm: RMSNorm?
    /// What `qNorm` and `kNorm` normalise over.
    let qkNormSpan: QKNormSpan
    let heads, kvHeads, headDim: Int
    /// How many positions back a query sees (itself included), or nil for every earlier position.
    let slidingWindow: Int?
    /// Whether q and k are rotated by their positions (false: a NoPE layer, positions only through the mask).
    let rotary: Bool
    /// q, k and v as one product (inference).
    let qkv: FusedProjection
    /// What q·kᵀ is multiplied by, or nil for `1 / √head_dim`.
    let scale: Float?
    /// The soft cap of the scores (`cap · tanh(score / cap)`), or nil for none.
    let scoreSoftCap: Float?
    /// This layer's rotary table when it differs from the model's (Gemma 3's local layers), else nil.
    let rotaryTable: RotaryTable?

    /// What the q/k norms of an attention normalise over.
    enum QKNormSpan {
        /// Each head of q and k (Qwen3, Gemma 3): norms of `[head_dim]`.
        case eachHead
        /// All of q and all of k, after their biases and before the split into heads (OLMo 2).
        case wholeProjection
    }

    /// Attention of `config`'s shape with placeholder weights: biases on q, k and v (`qkvBias`) and
    /// on o (`outputBias`), q/k norms over `qkNormSpan` when `qkNorm` (scaling by
    /// `qkNormWeightOffset + weight`), no rotary embedding unless `rotary`, scores times `scale`
    /// (nil: `1 / √head_dim`) and soft-capped at `scoreSoftCap`, rotated by `rotaryTable` instead of
    /// the model's table when given.
    init(config: ModelConfig, qkvBias: Bool, outputBias: Bool, qkNorm: Bool, slidingWindow: Int?, rotary: Bool = true,
         qkNormSpan: QKNormSpan = .eachHead, qkNormWeightOffset: Float = 0, scale: Float? = nil,
         scoreSoftCap: Float? = nil, rotaryTable: RotaryTable? = nil) {
        let (h, q, kv) = (config.hiddenSize, config.heads * config.headDim, config.kvHeads * config.headDim)
        qProj = Linear(inFeatures: h, outFeatures: q, bias: qkvBias)
        kProj = Linear(inFeatures: h, outFeatures: kv, bias: qkvBias)
        vProj = Linear(inFeatures: h, outFeatures: kv, bias: qkvBias)
        oProj = Linear(inFeatures: q, outFeatures: h, bias: outputBias)
        let (qNormed, kNormed) = qkNormSpan == .eachHead ? (config.headDim, config.headDim) : (q, kv)
        qNorm = qkNorm ? RMSNorm(dimension: qNormed, eps: config.rmsNormEps, weightOffset: qkNormWeightOffset) : nil
        kNorm = qkNorm ? RMSNorm(dimension: kNormed, eps: config.rmsNormEps, weightOffset: qkNormWeightOffset) : nil
        self.qkNormSpan = qkNormSpan
        (heads, kvHeads, headDim) = (config.heads, config.kvHeads, config.headDim)
        self.slidingWindow = slidingWindow
        self.rotary = rotary
        qkv = FusedProjection([qProj, kProj, vProj])
        (self.scale, self.scoreSoftCap, self.rotaryTable) = (scale, scoreSoftCap, rotaryTable)
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

    func fuseWeights() throws { try qkv.fuse() }

    /// `[batch, length, hidden]` (normalised) in, the attention output after `o_proj` out. With a
    /// cache, the new keys and values are appended to layer `layer` of it.
    func callAsFunction(_ x: Tensor, _ pass: DecoderPass, layer: Int) -> Tensor {
        let (b, t) = (pass.input.batch, pass.input.length)
        let projected = qkv(x)
        var (q, k) = (projected[0], projected[1])
        if qkNormSpan == .wholeProjection, let qNorm, let kNorm {
            q = qNorm(q)
            k = kNorm(k)
        }
        q = q.reshaped([b, t, heads, headDim])
        k = k.reshaped([b, t, kvHeads, headDim])
        let v = projected[2].reshaped([b, t, kvHeads, headDim])
        if qkNormSpan == .eachHead, let qNorm, let kNorm {
            q = qNorm(q)
            k = kNorm(k)
        }
        let attended = pass.attend(query: q, key: k, value: v, layer: layer, rotary: rotary ? rotaryTable ?? pass.rotary : nil,
                                   slidingWindow: slidingWindow, scale: scale, softCap: scoreSoftCap)
        return oProj(attended)
    }
}

extension DecoderPass {
    /// The attention core of every self-attention: `query` `[batch, length, heads, head_dim]` and
    /// `key` (both rotated by `rotary` when given) and `value` `[batch, length, kv_heads, head_dim]`
    /// appended to layer `layer` of the cache, then causal attention over the keys the padding and
    /// `slidingWindow` leave, scores times `scale` (nil: `1 / √head_dim`) and soft-capped at
    /// `softCap`; `[batch, length, heads · head_dim]` out. A pass over flat tokens (no cache) regroups
    /// them instead (``FlatTokenAttention``).
    func attend(query: Tensor, key: Tensor, value: Tensor, layer: Int, rotary: RotaryTable?, slidingWindow: Int?,
                scale: Float? = nil, softCap: Float? = nil) -> Tensor {
        var (q, k) = (query, key)
        if let rotary {
            q = Tensor.rotaryEmbedding(q, positions: input.positions, table: rotary)
            k = Tensor.rotaryEmbedding(k, positions: input.positions, table: rotary)
        }
        // Under bfloat16 autocast, attention takes bfloat16 operands and gives a bfloat16 output
        // (the rotated queries and keys are float32 in PyTorch, whose cos/sin tables are float32).
        q = q.roundedUnderAutocast()
        k = k.roundedUnderAutocast()
        let value = value.roundedUnderAutocast()
        if let regrouping = input.regrouping {
            precondition(cache == nil, "passes over flat tokens are training passes, without a KV cache")
            let (t, heads, kvHeads, headDim) = (input.length, q.shape[2], k.shape[2], q.shape[3])
            return regrouping.attend(query: q.reshaped([t, heads, headDim]), key: k.reshaped([t, kvHeads, headDim]),
                                 value: value.reshaped([t, kvHeads, headDim]), slidingWindow: slidingWindow, scale: scale,
                                 softCap: softCap).roundedUnderAutocast().reshaped([1, t, heads * headDim])
        }
        let (keys, values) = cache?.append(layer: layer, keys: k, values: value, at: start) ?? (k, value)
        let mask = AttentionMask(causal: true, keyPadding: keyPadding(forLast: keys.shape[1]), slidingWindow: slidingWindow)
        let attended = Tensor.scaledDotProductAttention(query: q, key: keys, value: values, mask: mask, scale: scale, softCap: softCap)
        return attended.roundedUnderAutocast().reshaped([input.batch, input.length, q.shape[2] * q.shape[3]])
    }

    /// The key mask of the last `count` keys of each row (a cache layer keeping only its
    /// sliding window holds fewer keys than the pass's mask covers).
    private func keyPadding(forLast count: Int) -> [Float]? {
        guard let padding = input.keyPadding else { return nil }
        let keys = padding.count / input.batch
        guard count < keys else { return padding }
        return (0..<input.batch).flatMap { padding[($0 + 1) * keys - count..<($0 + 1) * keys] }
    }
}
