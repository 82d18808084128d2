import FledgeTensor

/// Gemma 3 text (`Gemma3ForCausalLM`, `Gemma3TextForSequenceClassification`; `model_type`
/// `gemma3_text`): Gemma 2's block (`Gemma2`) with a `(1 + w)` RMSNorm over each head of q and k
/// before the rotary embedding (`q_norm`, `k_norm`) and, as published, no soft-capping; local
/// (sliding-window) and global layers as `layer_types` says, else every `sliding_window_pattern`-th
/// layer global; local layers have their own rope (`rope_parameters.sliding_attention`, or
/// transformers 4's `rope_local_base_freq`), global layers the model's (linear scaling on them only).
enum Gemma3Text: ModelFamily {
    static let modelType = "gemma3_text"
    static var activation: (field: String, supported: String) { Gemma2.activation }
    static var tiesWordEmbeddingsByDefault: Bool { true }

    struct Config {
        /// `attention_bias`: biases on q, k, v and o.
        var attentionBias: Bool
        /// `query_pre_attn_scalar`^-½, what q·kᵀ is multiplied by.
        var attentionScale: Float
        /// `attn_logit_softcapping`, or nil (null or absent) for none.
        var attentionSoftCap: Float?
        /// `final_logit_softcapping`, or nil (null or absent) for none.
        var logitSoftCap: Float?
        /// The sliding window of each layer, or nil for a global layer.
        var slidingWindows: [Int?]
        /// The rope of the local layers.
        var localRope: RopeScaling
    }

    static func config(_ reader: ConfigReader, shared: ModelConfig) throws -> Config {
        let window = try SlidingWindows.window(reader) ?? 4096
        let patternField = reader.has("sliding_window_pattern") ? "sliding_window_pattern" : "_sliding_window_pattern"
        let pattern = try reader.int(patternField, default: 6)
        guard pattern > 0 else {
            throw ModelError.invalidConfig(file: reader.file, field: patternField, problem: "must be positive, got \(pattern)")
        }
        let patterned = (0..<shared.layers).map { ($0 + 1) % pattern == 0 ? nil : window }
        let nested = reader.dictionary("rope_parameters").map(RopeScaling.isPerLayerType) ?? false
        let localRope = nested
            ? try RopeScaling(reader: reader, layerType: "sliding_attention")
            : RopeScaling(theta: try reader.double("rope_local_base_freq", default: 10000))
        guard localRope.kind != .dynamic else {
            throw ModelError.invalidConfig(file: reader.file, field: "rope_parameters.sliding_attention.rope_type",
                                           problem: "is 'dynamic'; Fledge supports dynamic scaling on global layers only")
        }
        return Config(attentionBias: try reader.bool("attention_bias", default: false),
                      attentionScale: try Gemma2.attentionScale(reader),
                      attentionSoftCap: try Gemma2.softCap(reader, "attn_logit_softcapping", default: nil),
                      logitSoftCap: try Gemma2.softCap(reader, "final_logit_softcapping", default: nil),
                      slidingWindows: try SlidingWindows.fromLayerTypes(reader, layers: shared.layers, window: window) ?? patterned,
                      localRope: localRope)
    }

    static func decoder(_ config: Config, shared: ModelConfig) -> Decoder {
        let localTable = config.localRope.table(headDim: shared.headDim, maxPositions: shared.maxPositionEmbeddings)
        return Decoder(config: shared, layers: config.slidingWindows.map { window in
            SandwichNormDecoderLayer(
                config: shared,
                attention: Attention(config: shared, qkvBias: config.attentionBias, outputBias: config.attentionBias, qkNorm: true,
                                     slidingWindow: window, qkNormWeightOffset: 1, scale: config.attentionScale,
                                     scoreSoftCap: config.attentionSoftCap, rotaryTable: window == nil ? nil : localTable),
                mlp: .geGLU(config: shared), normWeightOffset: 1)
        }, normWeightOffset: 1, embeddingScale: Gemma2.embeddingScale(shared), logitSoftCap: config.logitSoftCap)
    }
}
