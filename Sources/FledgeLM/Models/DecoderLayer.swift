import FledgeNN
import FledgeTensor

/// One Llama-shaped decoder layer: pre-norm attention and pre-norm SwiGLU MLP, each added to
/// the residual stream.
final class DecoderLayer: Module, WeightFusing, @unchecked Sendable {
    let inputNorm, postAttentionNorm: RMSNorm
    let qProj, kProj, vProj, oProj: Linear
    let qNorm, kNorm: RMSNorm?
    let gateProj, upProj, downProj: Linear
    let slidingWindow: Int?
    let heads, kvHeads, headDim: Int
    /// q, k and v as one product, and gate and up as another (inference).
    let qkv, gateUp: FusedProjection

    /// A layer of `config`'s shape with placeholder weights, to be loaded.
    init(config: ModelConfig, family: ModelFamily, slidingWindow: Int?) {
        let (h, d, q, kv, m) = (config.hiddenSize, config.headDim, config.heads * config.headDim, config.kvHeads * config.headDim,
                                config.intermediateSize)
        let biases = family.attentionBiases(config), mlpBias = family.mlpBias(config)
        inputNorm = RMSNorm(dimension: h, eps: config.rmsNormEps)
        postAttentionNorm = RMSNorm(dimension: h, eps: config.rmsNormEps)
        qProj = Linear(inFeatures: h, outFeatures: q, bias: biases.qkv)
        kProj = Linear(inFeatures: h, outFeatures: kv, bias: biases.qkv)
        vProj = Linear(inFeatures: h, outFeatures: kv, bias: biases.qkv)
        oProj = Linear(inFeatures: q, outFeatures: h, bias: biases.output)
        qNorm = family.qkNorm ? RMSNorm(dimension: d, eps: config.rmsNormEps) : nil
        kNorm = family.qkNorm ? RMSNorm(dimension: d, eps: config.rmsNormEps) : nil
        gateProj = Linear(inFeatures: h, outFeatures: m, bias: mlpBias)
        upProj = Linear(inFeatures: h, outFeatures: m, bias: mlpBias)
        downProj = Linear(inFeatures: m, outFeatures: h, bias: mlpBias)
        self.slidingWindow = slidingWindow
        (heads, kvHeads, headDim) = (config.heads, config.kvHeads, config.headDim)
        qkv = FusedProjection([qProj, kProj, vProj])
        gateUp = FusedProjection([gateProj, upProj])
    }

    /// The projections and norms under their checkpoint names relative to the layer, in
    /// transformers' order (attention, MLP, then the layer's norms).
    func members(_ visitor: ModuleVisitor) {
        visitor.child("self_attn.q_proj", qProj)
        visitor.child("self_attn.k_proj", kProj)
        visitor.child("self_attn.v_proj", vProj)
        visitor.child("self_attn.o_proj", oProj)
        if let qNorm, let kNorm {
            visitor.child("self_attn.q_norm", qNorm)
            visitor.child("self_attn.k_norm", kNorm)
        }
        visitor.child("mlp.gate_proj", gateProj)
        visitor.child("mlp.up_proj", upProj)
        visitor.child("mlp.down_proj", downProj)
        visitor.child("input_layernorm", inputNorm)
        visitor.child("post_attention_layernorm", postAttentionNorm)
    }

    func fuseWeights() {
        qkv.fuse()
        gateUp.fuse()
    }

    /// `[batch, length, hidden]` residual stream in, the same out. With a cache, the new keys and
    /// values are appended to layer `index` of it after its `start` cached positions.
    func forward(_ x: Tensor, _ input: ForwardInput, table: RotaryTable, cache: KVCache?, index: Int, start: Int) -> Tensor {
        let (b, t) = (input.batch, input.length)
        let projected = qkv(inputNorm(x))
        var q = projected[0].reshaped([b, t, heads, headDim])
        var k = projected[1].reshaped([b, t, kvHeads, headDim])
        let v = projected[2].reshaped([b, t, kvHeads, headDim])
        if let qNorm, let kNorm {
            q = qNorm(q)
            k = kNorm(k)
        }
        q = Tensor.rotaryEmbedding(q, positions: input.positions, table: table)
        k = Tensor.rotaryEmbedding(k, positions: input.positions, table: table)
        let (keys, values) = cache?.append(layer: index, keys: k, values: v, at: start) ?? (k, v)
        let mask = AttentionMask(causal: true, keyPadding: input.keyPadding, slidingWindow: slidingWindow)
        let attended = Tensor.scaledDotProductAttention(query: q, key: keys, value: values, mask: mask)
        let h = x + oProj(attended.reshaped([b, t, heads * headDim]))
        let gateAndUp = gateUp(postAttentionNorm(h))
        return h + downProj(Tensor.swiGLU(gate: gateAndUp[0], up: gateAndUp[1]))
    }

    /// `forward` without a cache under gradient checkpointing: only `x` is kept, and backward
    /// runs the layer again. The recomputation replays the dropout masks of the first pass and
    /// then leaves the adapters' generators where later passes have taken them.
    func checkpointedForward(_ x: Tensor, _ input: ForwardInput, table: RotaryTable) -> Tensor {
        let adapters = namedModules.compactMap { ($0.1 as? Linear)?.adapter as? LoRAAdapter }
        let generators = adapters.map(\.dropoutGenerator)
        var isRecomputation = false
        var parameters = namedParameters.map(\.1)
        for adapter in adapters { parameters += [adapter.a, adapter.b] }
        return Tensor.checkpointed(inputs: [x], parameters: parameters) { inputs in
            let resume = isRecomputation ? adapters.map(\.dropoutGenerator) : nil
            isRecomputation = true
            for (adapter, generator) in zip(adapters, generators) { adapter.dropoutGenerator = generator }
            defer {
                if let resume { for (adapter, generator) in zip(adapters, resume) { adapter.dropoutGenerator = generator } }
            }
            return self.forward(inputs[0], input, table: table, cache: nil, index: 0, start: 0)
        }
    }
}
