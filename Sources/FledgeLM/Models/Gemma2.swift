import Foundation

/// Gemma 2 (`Gemma2ForCausalLM`, `Gemma2ForSequenceClassification`): the sandwich-norm block
/// (`SandwichNormDecoderLayer`: norms before and after attention and MLP) with `(1 + w)` RMSNorms
/// everywhere, the final norm included; embeddings times √hidden_size; the GeGLU MLP
/// (`gelu_pytorch_tanh`); attention scores scaled by `query_pre_attn_scalar`^-½ and soft-capped at
/// `attn_logit_softcapping`; the causal LM's logits soft-capped at `final_logit_softcapping`; a
/// sliding window on the layers `layer_types` names (by default every other layer, the first included).
enum Gemma2: ModelFamily {
    static let modelType = "gemma2"
    static var activation: (field: String, supported: String) { ("hidden_activation", "gelu_pytorch_tanh") }
    static var tiesWordEmbeddingsByDefault: Bool { true }

    struct Config {
        /// `attention_bias`: biases on q, k, v and o.
        var attentionBias: Bool
        /// `query_pre_attn_scalar`^-½, what q·kᵀ is multiplied by.
        var attentionScale: Float
        /// `attn_logit_softcapping`, or nil (null) for none.
        var attentionSoftCap: Float?
        /// `final_logit_softcapping`, or nil (null) for none.
        var logitSoftCap: Float?
        /// The sliding window of each layer, or nil for full attention.
        var slidingWindows: [Int?]
    }

    static func config(_ reader: ConfigReader, shared: ModelConfig) throws -> Config {
        let window = try SlidingWindows.window(reader) ?? 4096
        let alternating = (0..<shared.layers).map { $0 % 2 == 0 ? window : nil }
        return Config(attentionBias: try reader.bool("attention_bias", default: false),
                      attentionScale: try attentionScale(reader),
                      attentionSoftCap: try softCap(reader, "attn_logit_softcapping", default: 50),
                      logitSoftCap: try softCap(reader, "final_logit_softcapping", default: 30),
                      slidingWindows: try SlidingWindows.fromLayerTypes(reader, layers: shared.layers, window: window) ?? alternating)
    }

    static func decoder(_ config: Config, shared: ModelConfig) -> Decoder {
        Decoder(config: shared, layers: config.slidingWindows.map { window in
            SandwichNormDecoderLayer(
                config: shared,
                attention: Attention(config: shared, qkvBias: config.attentionBias, outputBias: config.attentionBias, qkNorm: false,
                                     slidingWindow: window, scale: config.attentionScale, scoreSoftCap: config.attentionSoftCap),
                mlp: .geGLU(config: shared), normWeightOffset: 1)
        }, normWeightOffset: 1, embeddingScale: embeddingScale(shared), logitSoftCap: config.logitSoftCap)
    }

    /// √hidden_size rounded to float32, as transformers multiplies float32 embeddings by it.
    static func embeddingScale(_ shared: ModelConfig) -> Float { Float(Double(shared.hiddenSize).squareRoot()) }

    /// `query_pre_attn_scalar`^-½ (default 256, transformers' default); the scalar must be positive.
    static func attentionScale(_ reader: ConfigReader) throws -> Float {
        let scalar = try reader.double("query_pre_attn_scalar", default: 256)
        guard scalar > 0, scalar.isFinite else {
            throw ModelError.invalidConfig(file: reader.file, field: "query_pre_attn_scalar", problem: "must be positive, got \(scalar)")
        }
        return Float(1 / scalar.squareRoot())
    }

    /// A soft cap `field`: nil when config.json sets it to null, `value` when it leaves it out; it must be positive.
    static func softCap(_ reader: ConfigReader, _ field: String, default value: Double?) throws -> Float? {
        if reader.isNull(field) { return nil }
        guard reader.has(field) || value != nil else { return nil }
        let cap = try reader.double(field, default: value ?? 0)
        guard cap > 0, cap.isFinite else {
            throw ModelError.invalidConfig(file: reader.file, field: field, problem: "must be positive or null (no cap), got \(cap)")
        }
        return Float(cap)
    }
}
