/// Qwen3 (`Qwen3ForCausalLM`, `Qwen3ForSequenceClassification`): Llama's pre-norm block with an
/// RMSNorm over each head of q and k (`q_norm`, `k_norm`, `[head_dim]`) before the rotary
/// embedding; biases on the attention projections only with `attention_bias`; sliding windows as
/// Qwen2 places them.
enum Qwen3: ModelFamily {
    static let modelType = "qwen3"

    struct Config {
        /// `attention_bias`: biases on q, k, v and o.
        var attentionBias: Bool
        /// The sliding window of each layer, or nil for full attention.
        var slidingWindows: [Int?]
    }

    static func config(_ reader: ConfigReader, shared: ModelConfig) throws -> Config {
        Config(attentionBias: try reader.bool("attention_bias", default: false),
               slidingWindows: try SlidingWindows.fromMaxWindowLayers(reader, layers: shared.layers))
    }

    static func decoder(_ config: Config, shared: ModelConfig) -> Decoder {
        Decoder(config: shared, layers: config.slidingWindows.map { window in
            PreNormDecoderLayer(
                config: shared,
                attention: Attention(config: shared, qkvBias: config.attentionBias, outputBias: config.attentionBias, qkNorm: true,
                                     slidingWindow: window),
                mlp: .swiGLU(config: shared, bias: false))
        })
    }
}
