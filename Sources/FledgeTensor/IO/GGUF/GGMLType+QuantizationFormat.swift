extension GGMLType {
    /// The quantized-base format that stores this type's blocks byte for byte (Q8_0, Q4_0, Q4_K),
    /// so that a GGUF weight of this type can be kept as a `QuantizedMatrix` without
    /// requantizing; nil for the types the quantized base has no kernels for.
    public var quantizationFormat: QuantizationFormat? {
        guard case .blocks(let block) = storage else { return nil }
        return QuantizationFormat.allCases.first { ObjectIdentifier($0.blockFormat) == ObjectIdentifier(block) }
    }
}
