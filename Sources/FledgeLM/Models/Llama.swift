/// Llama (`LlamaForCausalLM`, `LlamaForSequenceClassification`): optional biases on all four
/// attention projections (`attention_bias`) and on the MLP (`mlp_bias`); every rope scaling
/// type of `RopeScaling`.
extension ModelFamily {
    public static let llama = ModelFamily(
        modelType: "llama",
        defaultAttentionBias: false,
        attentionBiases: { ($0.attentionBias, $0.attentionBias) },
        mlpBias: { $0.mlpBias },
        qkNorm: false,
        slidingWindows: { _, layers in Array(repeating: nil, count: layers) })
}
