/// Mistral: Llama without biases, with `sliding_window` on every layer when it is set.
extension ModelFamily {
    public static let mistral = ModelFamily(
        modelType: "mistral",
        defaultAttentionBias: false,
        attentionBiases: { _ in (false, false) },
        mlpBias: { _ in false },
        qkNorm: false,
        slidingWindows: { reader, layers in
            let window = try reader.optionalInt("sliding_window")
            if let types = try ModelFamilies.layerTypes(reader, layers: layers, window: window) { return types }
            return Array(repeating: window, count: layers)
        })
}
