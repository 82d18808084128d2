/// OLMo 2 (`Olmo2ForCausalLM`, `Olmo2ForSequenceClassification`): the post-norm block
/// (`PostNormDecoderLayer`: attention and MLP outputs are normalised before the residual add, and
/// nothing is normalised before them), an RMSNorm over the whole q and k projections before the
/// split into heads and the rotary embedding, optional biases on the attention projections
/// (`attention_bias`), none in the MLP, full attention on every layer.
enum OLMo2: ModelFamily {
    static let modelType = "olmo2"

    struct Config {
        /// `attention_bias`: biases on q, k, v and o.
        var attentionBias: Bool
        /// `rms_norm_eps`, whose default is 1e-5 for OLMo 2 (1e-6 for the other families).
        var rmsNormEps: Float
    }

    static func config(_ reader: ConfigReader, shared: ModelConfig) throws -> Config {
        Config(attentionBias: try reader.bool("attention_bias", default: false),
               rmsNormEps: Float(try reader.double("rms_norm_eps", default: 1e-5)))
    }

    static func decoder(_ config: Config, shared: ModelConfig) -> Decoder {
        var shared = shared
        shared.rmsNormEps = config.rmsNormEps
        return Decoder(config: shared, layers: (0..<shared.layers).map { _ in
            PostNormDecoderLayer(
                config: shared,
                attention: Attention(config: shared, qkvBias: config.attentionBias, outputBias: config.attentionBias, qkNorm: true,
                                     slidingWindow: nil, qkNormSpan: .wholeProjection),
                mlp: .swiGLU(config: shared, bias: false))
        })
    }
}
