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
    /// q, k and v weights in one `[q + 2·kv, hidden]` buffer (and their biases), and gate and up
    /// in one `[2·intermediate, hidden]`: the separate layers' weights are views of these, so a
    /// decoding step makes 4 products per layer instead of 7 (each streams its weight from
    /// memory; fewer, longer streams and fewer thread hand-offs).
    let qkv: (weight: Tensor, bias: Tensor?)
    let gateUp: Tensor

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
        qkv = (Self.fuse([qProj, kProj, vProj]), biases.qkv ? Tensor.concat([qProj, kProj, vProj].map { $0.bias! }, axis: 0) : nil)
        gateUp = Self.fuse(mlpBias ? [] : [gateProj, upProj])
    }

    /// Copies the layers' weights into one buffer and makes each layer's weight a view of it.
    private static func fuse(_ layers: [Linear]) -> Tensor {
        guard !layers.isEmpty else { return Tensor.zeros([0]) }
        let fused = Tensor.concat(layers.map(\.weight), axis: 0)
        var start = 0
        for layer in layers {
            let rows = layer.outFeatures
            layer.weight = fused.slice(axis: 0, start..<start + rows)
            start += rows
        }
        return fused
    }

    /// Whether the fused products compute what the separate layers would (no adapter, nothing
    /// trainable: a trainer's gradients belong to the separate layers' weights).
    var canFuseProjections: Bool {
        [qProj, kProj, vProj, gateProj, upProj].allSatisfy { $0.adapter == nil && !$0.weight.requiresGrad && !($0.bias?.requiresGrad ?? false) }
    }

    /// q, k and v of `x`.
    func projectQKV(_ x: Tensor) -> (Tensor, Tensor, Tensor) {
        guard canFuseProjections else { return (qProj(x), kProj(x), vProj(x)) }
        var y = x.matmul(qkv.weight.transposed())
        if let bias = qkv.bias { y = y + bias }
        let (q, kv) = (qProj.outFeatures, kProj.outFeatures)
        return (y.slice(axis: -1, 0..<q), y.slice(axis: -1, q..<q + kv), y.slice(axis: -1, q + kv..<q + 2 * kv))
    }

    /// SiLU(gate(x)) · up(x).
    func gatedActivation(_ x: Tensor) -> Tensor {
        guard canFuseProjections, gateUp.rank == 2 else { return Tensor.swiGLU(gate: gateProj(x), up: upProj(x)) }
        let y = x.matmul(gateUp.transposed())
        let m = gateProj.outFeatures
        return Tensor.swiGLU(gate: y.slice(axis: -1, 0..<m), up: y.slice(axis: -1, m..<2 * m))
    }
}

/// The inputs of one forward pass over `[batch, length]` new tokens.
struct ForwardInput {
    let ids: [Int]
    let batch: Int
    let length: Int
    /// Position id of each new token (`batch · length`), from the attention mask.
    let positions: [Int]
    /// 1 for a real key, 0 for padding, over all keys (`batch · keys`), or nil for none.
    let keyPadding: [Float]?
}

/// The embedding, decoder layers and final norm of a Llama-shaped model (`model.*` in the
/// checkpoint).
final class Decoder: @unchecked Sendable {
    let config: ModelConfig
    let embedding: Embedding
    let layers: [DecoderLayer]
    let norm: RMSNorm

    init(_ c: Checkpoint, config: ModelConfig, family: ModelFamily) throws {
        self.config = config
        embedding = Embedding(weight: try c.take("model.embed_tokens.weight", [config.vocabSize, config.hiddenSize]))
        layers = try (0..<config.layers).map {
            try DecoderLayer(c, prefix: "model.layers.\($0)", config: config, family: family, slidingWindow: config.slidingWindows[$0])
        }
        norm = RMSNorm(weight: try c.take("model.norm.weight", [config.hiddenSize]), eps: config.rmsNormEps)
    }

    /// Hidden states `[batch, length, hidden]` before the final norm. With a cache, the new
    /// tokens follow the cached ones: their keys and values are appended to it and the queries
    /// attend to every cached key.
    func forward(_ input: ForwardInput, cache: KVCache?, rotary: RotaryState) -> Tensor {
        let (b, t) = (input.batch, input.length)
        let (heads, kvHeads, dim) = (config.heads, config.kvHeads, config.headDim)
        let table = rotary.table(maxPosition: input.positions.max() ?? 0)
        let start = cache?.length ?? 0
        var x = embedding(input.ids, shape: [b, t])
        for (index, layer) in layers.enumerated() {
            let normed = layer.inputNorm(x)
            let (qFlat, kFlat, vFlat) = layer.projectQKV(normed)
            var q = qFlat.reshaped([b, t, heads, dim])
            var k = kFlat.reshaped([b, t, kvHeads, dim])
            let v = vFlat.reshaped([b, t, kvHeads, dim])
            if let qNorm = layer.qNorm, let kNorm = layer.kNorm {
                q = qNorm(q)
                k = kNorm(k)
            }
            q = Tensor.rotaryEmbedding(q, positions: input.positions, table: table)
            k = Tensor.rotaryEmbedding(k, positions: input.positions, table: table)
            let keys: Tensor, values: Tensor
            if let cache {
                (keys, values) = cache.append(layer: index, keys: k, values: v, at: start)
            } else {
                (keys, values) = (k, v)
            }
            let mask = AttentionMask(causal: true, keyPadding: input.keyPadding, slidingWindow: layer.slidingWindow)
            let attended = Tensor.scaledDotProductAttention(query: q, key: keys, value: values, mask: mask)
            x = x + layer.oProj(attended.reshaped([b, t, heads * dim]))
            let normed2 = layer.postAttentionNorm(x)
            x = x + layer.downProj(layer.gatedActivation(normed2))
        }
        cache?.length = start + t
        return x
    }
}
