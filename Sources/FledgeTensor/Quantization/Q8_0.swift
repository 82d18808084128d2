/// llama.cpp's `Q8_0`: blocks of 32 weights, a float16 scale `d` followed by 32 signed bytes;
/// weight `i` is `d · q[i]`.
///
/// `quantize` produces exactly the bytes of ggml's `quantize_row_q8_0_ref` (and gguf-py's
/// `gguf.quants.quantize`): `d = max|x| / 127` in float32, `q = round(x / d)` with ties away
/// from zero, and `d` stored rounded to float16.
public enum Q8_0: QuantizingBlockFormat {
    public static let name = "q8_0"
    public static let valuesPerBlock = 32
    public static let bytesPerBlock = 34

    public static func dequantize(_ blocks: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Float>) {
        forEachBlock(blocks, output) { block, values in
            SymmetricInt8.dequantize(block, at: 2, scale: block.float16(at: 0), into: values, count: valuesPerBlock)
        }
    }

    public static func quantize(_ values: UnsafeBufferPointer<Float>, into blocks: UnsafeMutableRawBufferPointer) {
        guard let source = values.baseAddress, let base = blocks.baseAddress else { return }
        for block in 0..<values.count / valuesPerBlock {
            let offset = block * bytesPerBlock
            let chunk = UnsafeBufferPointer(start: source + block * valuesPerBlock, count: valuesPerBlock)
            storeFloat16(SymmetricInt8.quantize(chunk, into: base + offset + 2), blocks, at: offset)
        }
    }
}
