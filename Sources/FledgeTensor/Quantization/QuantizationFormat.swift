/// The quantized weight formats a frozen base can be stored in, by the names that
/// `--quantization` and configs use: bitsandbytes' and llama.cpp's block formats, and `bf16`
/// (each weight rounded to bfloat16, the base of a LoRA run with `bf16: true`).
public enum QuantizationFormat: String, CaseIterable, Sendable {
    case nf4, fp4, int8
    case q8_0, q4_0, q4_k
    case bf16

    /// The block format that stores and decodes this format's weights.
    public var blockFormat: any QuantizingBlockFormat.Type {
        switch self {
        case .nf4: NF4.self
        case .fp4: FP4.self
        case .int8: Int8Blocks.self
        case .q8_0: Q8_0.self
        case .q4_0: Q4_0.self
        case .q4_k: Q4_K.self
        case .bf16: BFloat16Blocks.self
        }
    }

    /// Parses a format name; throws a `QuantizationError` listing the accepted names.
    public init(name: String) throws(QuantizationError) {
        guard let format = QuantizationFormat(rawValue: name) else { throw .unknownFormat(name) }
        self = format
    }
}
