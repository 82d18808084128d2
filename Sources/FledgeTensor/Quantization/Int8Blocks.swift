/// Fledge's weight-only 8-bit format (what `load_in_8bit` loads): blocks of 64 weights, a
/// little-endian float32 scale followed by 64 signed bytes; weight `i` is `scale · q[i]`.
///
/// The encoding is Q8_0's (`scale = max|x| / 127`, `q = round(x / scale)`, ties away from
/// zero) with a longer block and a float32 scale, so the only error is the rounding of each
/// weight to its level: at most `scale / 2`. Unlike bitsandbytes' LLM.int8, there is no
/// per-row scale and no float16 outlier matrix, and activations stay float32 (see
/// docs/quantization.md).
public enum Int8Blocks: QuantizingBlockFormat {
    public static let name = "int8"
    public static let valuesPerBlock = 64
    public static let bytesPerBlock = 68

    public static func dequantize(_ blocks: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Float>) {
        forEachBlock(blocks, output) { block, values in
            SymmetricInt8.dequantize(block, at: 4, scale: Float(bitPattern: block.uint32(at: 0)), into: values, count: valuesPerBlock)
        }
    }

    public static func quantize(_ values: UnsafeBufferPointer<Float>, into blocks: UnsafeMutableRawBufferPointer) {
        guard let source = values.baseAddress, let base = blocks.baseAddress else { return }
        for block in 0..<values.count / valuesPerBlock {
            let offset = block * bytesPerBlock
            let chunk = UnsafeBufferPointer(start: source + block * valuesPerBlock, count: valuesPerBlock)
            let scale = SymmetricInt8.quantize(chunk, into: base + offset + 4)
            blocks.storeBytes(of: scale.bitPattern.littleEndian, toByteOffset: offset, as: UInt32.self)
        }
    }
}
