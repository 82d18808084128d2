/// Weights stored as bfloat16: each weight rounded to the nearest bfloat16 (ties to even) and kept
/// as its two bytes, the upper half of its float32 bits (in the host's byte order, little-endian on
/// every CPU Fledge runs on). Decoding is exact: a 16-bit shift back into a float32.
///
/// Not a format of llama.cpp or bitsandbytes: the frozen base of a LoRA run with `bf16: true`, whose
/// products (PyTorch CPU autocast) round every weight to bfloat16 anyway, is stored in it at half
/// the memory of float32 and multiplies exactly the values it multiplied before.
public enum BFloat16Blocks: QuantizingBlockFormat {
    public static let name = "bf16"
    public static let valuesPerBlock = 1
    public static let bytesPerBlock = 2

    public static func dequantize(_ blocks: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Float>) {
        precondition(blocks.count == output.count * bytesPerBlock, "bf16: \(blocks.count) bytes do not decode into \(output.count) values")
        blocks.withMemoryRebound(to: UInt16.self) { DType.convertFromBFloat16($0, into: output) }
    }

    public static func quantize(_ values: UnsafeBufferPointer<Float>, into blocks: UnsafeMutableRawBufferPointer) {
        blocks.withMemoryRebound(to: UInt16.self) { DType.convertToBFloat16(values, into: $0) }
    }
}
