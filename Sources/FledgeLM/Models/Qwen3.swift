/// Qwen3: an RMSNorm over each head of q and k (`q_norm`, `k_norm`, `[head_dim]`) before the
/// rotary embedding; biases on the attention projections only with `attention_bias`.
extension ModelFamily {
    public static let qwen3 = ModelFamily(
        modelType: "qwen3",
        defaultAttentionBias: false,
        attentionBiases: { ($0.attentionBias, $0.attentionBias) },
        mlpBias: { _ in false },
        qkNorm: true,
        slidingWindows: { reader, layers in try ModelFamilies.qwenSlidingWindows(reader, layers: layers) })
}
