/// SmolLM3 (`SmolLM3ForCausalLM`, `SmolLM3ForSequenceClassification`): Llama's pre-norm block in
/// which some layers have no rotary embedding (NoPE: positions reach them only through the causal
/// mask), optional biases on the attention projections (`attention_bias`) and on the MLP
/// (`mlp_bias`), and optional sliding windows.
enum SmolLM3: ModelFamily {
    static let modelType = "smollm3"

    struct Config {
        /// `attention_bias`: biases on q, k, v and o.
        var attentionBias: Bool
        /// `mlp_bias`: biases on gate, up and down.
        var mlpBias: Bool
        /// Whether each layer rotates q and k (false: a NoPE layer).
        var rotary: [Bool]
        /// The sliding window of each layer, or nil for full attention.
        var slidingWindows: [Int?]
    }

    static func config(_ reader: ConfigReader, shared: ModelConfig) throws -> Config {
        let rotary = try rotaryLayers(reader, layers: shared.layers)
        return Config(attentionBias: try reader.bool("attention_bias", default: false),
                      mlpBias: try reader.bool("mlp_bias", default: false),
                      rotary: rotary,
                      slidingWindows: try slidingWindows(reader, rotary: rotary))
    }

    /// `no_rope_layers`, one flag per layer where 1 means the layer *uses* rope (despite the
    /// name); without it, every `no_rope_layer_interval`-th layer (default 4) is NoPE.
    private static func rotaryLayers(_ reader: ConfigReader, layers: Int) throws -> [Bool] {
        guard reader.has("no_rope_layers") else {
            let interval = try reader.int("no_rope_layer_interval", default: 4)
            guard interval > 0 else {
                throw ModelError.invalidConfig(file: reader.file, field: "no_rope_layer_interval", problem: "must be positive, got \(interval)")
            }
            return (0..<layers).map { ($0 + 1) % interval != 0 }
        }
        let flags = try reader.ints("no_rope_layers")
        guard flags.count == layers, flags.allSatisfy({ $0 == 0 || $0 == 1 }) else {
            throw ModelError.invalidConfig(file: reader.file, field: "no_rope_layers",
                                           problem: "must list 0 or 1 (1: the layer uses rope) for each of the \(layers) layers "
                                               + "(num_hidden_layers), got \(flags)")
        }
        return flags.map { $0 == 1 }
    }

    /// `layer_types` when given (transformers masks by it alone); else, with `use_sliding_window`
    /// and a `sliding_window`, the NoPE layers slide, as transformers derives `layer_types`.
    private static func slidingWindows(_ reader: ConfigReader, rotary: [Bool]) throws -> [Int?] {
        let window = try SlidingWindows.window(reader)
        if let types = try SlidingWindows.fromLayerTypes(reader, layers: rotary.count, window: window) { return types }
        let enabled = try reader.bool("use_sliding_window", default: false)
        return rotary.map { enabled && !$0 ? window : nil }
    }

    static func decoder(_ config: Config, shared: ModelConfig) -> Decoder {
        Decoder(config: shared, layers: zip(config.rotary, config.slidingWindows).map { rotary, window in
            PreNormDecoderLayer(
                config: shared,
                attention: Attention(config: shared, qkvBias: config.attentionBias, outputBias: config.attentionBias, qkNorm: false,
                                     slidingWindow: window, rotary: rotary),
                mlp: .swiGLU(config: shared, bias: config.mlpBias))
        })
    }
}
