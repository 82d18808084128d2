/// Llama (`LlamaForCausalLM`, `LlamaForSequenceClassification`): the pre-norm block
/// (`PreNormDecoderLayer`) with optional biases on all four attention projections
/// (`attention_bias`) and on the MLP (`mlp_bias`), full attention on every layer, and every rope
/// scaling type of `RopeScaling`.
enum Llama: ModelFamily {
    static let modelType = "llama"

    struct Config {
        /// `attention_bias`: biases on q, k, v and o.
        var attentionBias: Bool
        /// `mlp_bias`: biases on gate, up and down.
        var mlpBias: Bool
    }

    static func config(_ reader: ConfigReader, shared: ModelConfig) throws -> Config {
        Config(attentionBias: try reader.bool("attention_bias", default: false), mlpBias: try reader.bool("mlp_bias", default: false))
    }

    static func decoder(_ config: Config, shared: ModelConfig) -> Decoder {
        Decoder(config: shared, layers: (0..<shared.layers).map { _ in
            PreNormDecoderLayer(
                config: shared,
                attention: Attention(config: shared, qkvBias: config.attentionBias, outputBias: config.attentionBias, qkNorm: false,
                                     slidingWindow: nil),
                mlp: .swiGLU(config: shared, bias: config.mlpBias))
        })
    }
}
