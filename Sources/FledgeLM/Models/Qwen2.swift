/// Qwen2 (`Qwen2ForCausalLM`, `Qwen2ForSequenceClassification`): biases on q, k and v (not o),
/// none in the MLP; a sliding window only with `use_sliding_window`, from `max_window_layers` on.
extension ModelFamily {
    public static let qwen2 = ModelFamily(
        modelType: "qwen2",
        defaultAttentionBias: true,
        attentionBiases: { _ in (true, false) },
        mlpBias: { _ in false },
        qkNorm: false,
        slidingWindows: { reader, layers in try ModelFamilies.qwenSlidingWindows(reader, layers: layers) })
}
