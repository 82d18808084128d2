/// How a GGUF file's decoder linear weights are held in memory once loaded (`--gguf-weights`,
/// `gguf_weights`).
public enum GGUFWeights: String, CaseIterable, Sendable {
    /// Weights in a format the quantized base has kernels for (Q8_0, Q4_0, Q4_K) stay in the file's
    /// blocks, as `QuantizedMatrix` (no dequantize, no requantize): about 1.06, 0.56 and 0.56 bytes
    /// per weight, as llama.cpp holds them. Every other tensor — other types, the embeddings, the
    /// output head, norms — is float32. The default: what llama.cpp users expect of a quantized file.
    case keep
    /// Every tensor dequantized to float32 (4 bytes per weight): full-precision products on the
    /// file's values, and a base that can be trained in full.
    case float
}
