/// Which layers attend through a sliding window, in the ways config.json says it: the window of
/// each layer, or nil for full attention.
enum SlidingWindows {
    /// config.json's `sliding_window`: how many positions back a query sees, or nil; it must be positive.
    static func window(_ reader: ConfigReader) throws -> Int? {
        guard let window = try reader.optionalInt("sliding_window") else { return nil }
        guard window > 0 else {
            throw ModelError.invalidConfig(file: reader.file, field: "sliding_window", problem: "must be positive, got \(window)")
        }
        return window
    }

    /// transformers 5's `layer_types` (`"sliding_attention"` / `"full_attention"` per layer),
    /// when config.json has it; `window` is `sliding_window`.
    static func fromLayerTypes(_ reader: ConfigReader, layers: Int, window: Int?) throws -> [Int?]? {
        guard let types = reader.strings("layer_types") else { return nil }
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
    static func fromMaxWindowLayers(_ reader: ConfigReader, layers: Int) throws -> [Int?] {
        let window = try window(reader)
        if let types = try fromLayerTypes(reader, layers: layers, window: window) { return types }
        let enabled = try reader.bool("use_sliding_window", default: false)
        if !enabled { return Array(repeating: nil, count: layers) }
        let first = try reader.int("max_window_layers", default: layers)
        return (0..<layers).map { $0 >= first ? window : nil }
    }
}
