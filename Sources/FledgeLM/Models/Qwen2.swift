/// Qwen2 (`Qwen2ForCausalLM`, `Qwen2ForSequenceClassification`): Llama's pre-norm block with
/// biases on q, k and v (not o) and none in the MLP; a sliding window only with
/// `use_sliding_window`, from `max_window_layers` on (or on the layers `layer_types` names).
enum Qwen2: ModelFamily {
    static let modelType = "qwen2"

    struct Config {
        /// The sliding window of each layer, or nil for full attention.
        var slidingWindows: [Int?]
    }

    static func config(_ reader: ConfigReader, shared: ModelConfig) throws -> Config {
        Config(slidingWindows: try SlidingWindows.fromMaxWindowLayers(reader, layers: shared.layers))
    }

    static func decoder(_ config: Config, shared: ModelConfig) -> Decoder {
        Decoder(config: shared, layers: config.slidingWindows.map { window in
            PreNormDecoderLayer(
                config: shared,
                attention: Attention(config: shared, qkvBias: true, outputBias: false, qkNorm: false, slidingWindow: window),
                mlp: .swiGLU(config: shared, bias: false))
        })
    }
}
