import FledgeNN
import FledgeTensor

/// One Llama-shaped decoder layer: pre-norm attention and pre-norm SwiGLU MLP, each added to
/// the residual stream.
final class DecoderLayer: @unchecked Sendable {
    let inputNorm, postAttentionNorm: RMSNorm
    let qProj, kProj, vProj, oProj: Linear
    let qNorm, kNorm: RMSNorm?
    let gateProj, upProj, downProj: Linear
    let slidingWindow: Int?
    let heads, kvHeads, headDim: Int
    /// q, k and v as one product, and gate and up as another (inference).
    let qkv, gateUp: FusedProjection

    init(_ c: Checkpoint, prefix p: String, config: ModelConfig, family: ModelFamily, slidingWindow: Int?) throws {
        let (h, d, q, kv, m) = (config.hiddenSize, config.headDim, config.heads * config.headDim, config.kvHeads * config.headDim,
                                config.intermediateSize)
        let biases = family.attentionBiases(config), mlpBias = family.mlpBias(config)
        func linear(_ name: String, _ out: Int, _ inp: Int, bias: Bool) throws -> Linear {
            Linear(weight: try c.take("\(p).\(name).weight", [out, inp]), bias: bias ? try c.take("\(p).\(name).bias", [out]) : nil)
        }
        inputNorm = RMSNorm(weight: try c.take("\(p).input_layernorm.weight", [h]), eps: config.rmsNormEps)
        postAttentionNorm = RMSNorm(weight: try c.take("\(p).post_attention_layernorm.weight", [h]), eps: config.rmsNormEps)
        qProj = try linear("self_attn.q_proj", q, h, bias: biases.qkv)
        kProj = try linear("self_attn.k_proj", kv, h, bias: biases.qkv)
        vProj = try linear("self_attn.v_proj", kv, h, bias: biases.qkv)
        oProj = try linear("self_attn.o_proj", h, q, bias: biases.output)
        if family.qkNorm {
            qNorm = RMSNorm(weight: try c.take("\(p).self_attn.q_norm.weight", [d]), eps: config.rmsNormEps)
            kNorm = RMSNorm(weight: try c.take("\(p).self_attn.k_norm.weight", [d]), eps: config.rmsNormEps)
        } else {
            qNorm = nil
            kNorm = nil
        }
        gateProj = try linear("mlp.gate_proj", m, h, bias: mlpBias)
        upProj = try linear("mlp.up_proj", m, h, bias: mlpBias)
        downProj = try linear("mlp.down_proj", h, m, bias: mlpBias)
        self.slidingWindow = slidingWindow
        (heads, kvHeads, headDim) = (config.heads, config.kvHeads, config.headDim)
        qkv = FusedProjection([qProj, kProj, vProj])
        gateUp = FusedProjection([gateProj, upProj])
    }

    /// The projections under their checkpoint names relative to the layer, in PEFT's order of
    /// `named_modules` (attention, then MLP).
    var namedLinears: [(String, Linear)] {
        [("self_attn.q_proj", qProj), ("self_attn.k_proj", kProj), ("self_attn.v_proj", vProj), ("self_attn.o_proj", oProj),
         ("mlp.gate_proj", gateProj), ("mlp.up_proj", upProj), ("mlp.down_proj", downProj)]
    }

    /// Every weight under its checkpoint name relative to the layer.
    var namedWeights: [(String, Tensor)] {
        var result: [(String, Tensor)] = []
        for (name, linear) in namedLinears {
            result.append(("\(name).weight", linear.weight))
            if let bias = linear.bias { result.append(("\(name).bias", bias)) }
        }
        result.append(("input_layernorm.weight", inputNorm.weight))
        result.append(("post_attention_layernorm.weight", postAttentionNorm.weight))
        if let q = qNorm, let k = kNorm {
            result.append(("self_attn.q_norm.weight", q.weight))
            result.append(("self_attn.k_norm.weight", k.weight))
        }
        return result
    }

    /// The layer's LoRA adapters.
    var loraAdapters: [LoRAAdapter] { namedLinears.compactMap { $0.1.adapter as? LoRAAdapter } }

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
        let adapters = loraAdapters
        let generators = adapters.map(\.dropoutGenerator)
        var isRecomputation = false
        var parameters = namedWeights.map(\.1)
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
