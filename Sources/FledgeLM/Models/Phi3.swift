import FledgeNN
import FledgeTensor

/// Phi-3 (`Phi3ForCausalLM`, `Phi3ForSequenceClassification`; Phi-3.5-mini and Phi-4-mini ship as
/// it): Llama's pre-norm block without biases, with q, k and v stored as one `qkv_proj` and gate
/// and up as one `gate_up_proj` (LoRA adapts the fused matrices, as PEFT does); rotary embeddings
/// on the first `partial_rotary_factor` of each head's dims; `longrope` scaling (short or long
/// factors picked per forward pass, see `RopeScaling`); `sliding_window` on every layer when set.
enum Phi3: ModelFamily {
    static let modelType = "phi3"
    static let readsLongRope = true

    struct Config {
        /// `sliding_window` (every layer), or nil for full attention.
        var slidingWindow: Int?
    }

    static func config(_ reader: ConfigReader, shared: ModelConfig) throws -> Config {
        let rope = shared.rope
        let rotated = rope.rotaryDimensions(headDim: shared.headDim)
        guard rotated > 0, rotated % 2 == 0 else {
            throw ModelError.invalidConfig(file: reader.file, field: "partial_rotary_factor",
                                           problem: "is \(rope.partialRotaryFactor): it rotates \(rotated) of head_dim "
                                               + "\(shared.headDim) dims; that must be a positive even number")
        }
        if rope.kind == .longrope {
            let field = reader.has("rope_parameters") ? "rope_parameters" : "rope_scaling"
            for (key, factors) in [("short_factor", rope.shortFactor), ("long_factor", rope.longFactor)]
            where factors.count != rotated / 2 {
                throw ModelError.invalidConfig(file: reader.file, field: "\(field).\(key)", problem: "has \(factors.count) values; "
                    + "it needs one per rotated pair of dims: \(rotated / 2) (head_dim \(shared.headDim) × partial_rotary_factor / 2)")
            }
        }
        return Config(slidingWindow: try SlidingWindows.window(reader))
    }

    static func decoder(_ config: Config, shared: ModelConfig) -> Decoder {
        Decoder(config: shared, layers: (0..<shared.layers).map { _ in
            PreNormDecoderLayer(config: shared, attention: FusedAttention(config: shared, slidingWindow: config.slidingWindow),
                                mlp: FusedMLP(config: shared))
        })
    }

    /// Self-attention (`self_attn`) with q, k and v as one projection (`qkv_proj`, rows q, then k,
    /// then v) and `o_proj`, no biases.
    final class FusedAttention: SelfAttentionBlock, @unchecked Sendable {
        let qkvProj, oProj: Linear
        let heads, kvHeads, headDim: Int
        let slidingWindow: Int?

        init(config: ModelConfig, slidingWindow: Int?) {
            (heads, kvHeads, headDim) = (config.heads, config.kvHeads, config.headDim)
            let (q, kv) = (heads * headDim, kvHeads * headDim)
            qkvProj = Linear(inFeatures: config.hiddenSize, outFeatures: q + 2 * kv, bias: false)
            oProj = Linear(inFeatures: q, outFeatures: config.hiddenSize, bias: false)
            self.slidingWindow = slidingWindow
        }

        /// In transformers' order.
        func members(_ visitor: ModuleVisitor) {
            visitor.child("o_proj", oProj)
            visitor.child("qkv_proj", qkvProj)
        }

        func callAsFunction(_ x: Tensor, _ pass: DecoderPass, layer: Int) -> Tensor {
            let (b, t) = (pass.input.batch, pass.input.length)
            let (q, kv) = (heads * headDim, kvHeads * headDim)
            let qkv = qkvProj(x)
            let query = qkv.slice(axis: -1, 0..<q).reshaped([b, t, heads, headDim])
            let key = qkv.slice(axis: -1, q..<q + kv).reshaped([b, t, kvHeads, headDim])
            let value = qkv.slice(axis: -1, q + kv..<q + 2 * kv).reshaped([b, t, kvHeads, headDim])
            return oProj(pass.attend(query: query, key: key, value: value, layer: layer, rotary: pass.rotary, slidingWindow: slidingWindow))
        }
    }

    /// The gated MLP (`mlp`) with gate and up as one projection (`gate_up_proj`, rows gate, then
    /// up): `down_proj(silu(gate) · up)`.
    final class FusedMLP: MLPBlock, @unchecked Sendable {
        let gateUpProj, downProj: Linear
        let intermediate: Int

        init(config: ModelConfig) {
            intermediate = config.intermediateSize
            gateUpProj = Linear(inFeatures: config.hiddenSize, outFeatures: 2 * intermediate, bias: false)
            downProj = Linear(inFeatures: intermediate, outFeatures: config.hiddenSize, bias: false)
        }

        func members(_ visitor: ModuleVisitor) {
            visitor.child("gate_up_proj", gateUpProj)
            visitor.child("down_proj", downProj)
        }

        func callAsFunction(_ x: Tensor) -> Tensor {
            let gateUp = gateUpProj(x)
            let gate = gateUp.slice(axis: -1, 0..<intermediate), up = gateUp.slice(axis: -1, intermediate..<2 * intermediate)
            return downProj(Tensor.swiGLU(gate: gate, up: up))
        }
    }
}
