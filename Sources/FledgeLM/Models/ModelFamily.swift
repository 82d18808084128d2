/// What distinguishes one decoder family from another: all of them are Llama-shaped
/// (RMSNorm, rotary attention with grouped-query heads, SwiGLU MLP) and differ in biases,
/// per-head q/k normalisation and which layers use a sliding window. Each family is one file
/// (`Llama.swift`, `Mistral.swift`, `Qwen2.swift`, `Qwen3.swift`); the shared decoder is
/// `Decoder.swift`.
public struct ModelFamily: Sendable {
    /// config.json's `model_type`.
    public let modelType: String
    /// `attention_bias` when config.json does not say.
    let defaultAttentionBias: Bool
    /// Whether q/k/v and o projections have biases, from the config.
    let attentionBiases: @Sendable (ModelConfig) -> (qkv: Bool, output: Bool)
    /// Whether the MLP projections have biases, from the config.
    let mlpBias: @Sendable (ModelConfig) -> Bool
    /// RMSNorm of each head of q and k before the rotary embedding (Qwen3).
    let qkNorm: Bool
    /// The sliding window of each layer (nil for full attention).
    let slidingWindows: @Sendable (ConfigReader, Int) throws -> [Int?]
}

/// The families Fledge implements, by `model_type`.
public enum ModelFamilies {
    public static let all: [ModelFamily] = [.llama, .mistral, .qwen2, .qwen3]

    public static var supportedNames: [String] { all.map(\.modelType) }

    public static func family(for modelType: String) -> ModelFamily? { all.first { $0.modelType == modelType } }

    /// transformers 5's `layer_types` (`"sliding_attention"` / `"full_attention"` per layer),
    /// when config.json has it.
    static func layerTypes(_ reader: ConfigReader, layers: Int, window: Int?) throws -> [Int?]? {
        guard let types = reader.object["layer_types"] as? [String] else { return nil }
        guard types.count == layers else {
            throw ModelError.invalidConfig(file: reader.file, field: "layer_types",
                                           problem: "has \(types.count) entries for \(layers) layers (num_hidden_layers)")
        }
        return try types.map { type in
            switch type {
            case "full_attention": return nil
            case "sliding_attention":
                guard let window else {
                    throw ModelError.invalidConfig(file: reader.file, field: "sliding_window",
                                                   problem: "is missing but layer_types has sliding_attention layers")
                }
                return window
            default:
                throw ModelError.invalidConfig(file: reader.file, field: "layer_types",
                                               problem: "has '\(type)'; Fledge supports 'full_attention' and 'sliding_attention'")
            }
        }
    }

    /// Qwen2 and Qwen3: `layer_types` when given (transformers 5 writes it), else a window on
    /// layers from `max_window_layers` on when `use_sliding_window`.
    static func qwenSlidingWindows(_ reader: ConfigReader, layers: Int) throws -> [Int?] {
        let window = try reader.optionalInt("sliding_window")
        if let types = try layerTypes(reader, layers: layers, window: window) { return types }
        let enabled = try reader.bool("use_sliding_window", default: false)
        if !enabled { return Array(repeating: nil, count: layers) }
        let first = try reader.int("max_window_layers", default: layers)
        return (0..<layers).map { $0 >= first ? window : nil }
    }
}
