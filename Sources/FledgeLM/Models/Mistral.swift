/// Mistral (`MistralForCausalLM`, `MistralForSequenceClassification`): Llama's pre-norm block
/// without biases, with `sliding_window` on every layer when it is set (or on the layers
/// `layer_types` names).
enum Mistral: ModelFamily {
    static let modelType = "mistral"

    struct Config {
        /// The sliding window of each layer, or nil for full attention.
        var slidingWindows: [Int?]
    }

    static func config(_ reader: ConfigReader, shared: ModelConfig) throws -> Config {
        let window = try SlidingWindows.window(reader)
        let windows = try SlidingWindows.fromLayerTypes(reader, layers: shared.layers, window: window)
        return Config(slidingWindows: windows ?? Array(repeating: window, count: shared.layers))
    }

    static func decoder(_ config: Config, shared: ModelConfig) -> Decoder {
        Decoder(config: shared, layers: config.slidingWindows.map { window in
            PreNormDecoderLayer(
                config: shared,
                attention: Attention(config: shared, qkvBias: false, outputBias: false, qkNorm: false, slidingWindow: window),
                mlp: .swiGLU(config: shared, bias: false))
        })
    }
}
