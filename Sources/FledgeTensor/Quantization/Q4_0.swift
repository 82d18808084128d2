/// llama.cpp's `Q4_0`: blocks of 32 weights, a float16 scale `d` followed by 16 bytes of 4-bit
/// levels; byte `j` holds weight `j` in its low nibble and weight `j + 16` in its high nibble,
/// and weight `i` is `d · (q[i] − 8)`.
///
/// `quantize` produces exactly the bytes of ggml's `quantize_row_q4_0_ref` (and gguf-py's):
/// `d` is the block's value of largest magnitude (the first one, sign kept) over −8, and
/// `q = min(15, trunc(x / d + 8.5))`.
public enum Q4_0: QuantizingBlockFormat {
    public static let name = "q4_0"
    public static let valuesPerBlock = 32
    public static let bytesPerBlock = 18

    public static func dequantize(_ blocks: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Float>) {
        forEachBlock(blocks, output) { block, values in
            let scale = block.float16(at: 0)
            for j in 0..<16 {
                let byte = block[2 + j]
                values[j] = scale * Float(Int(byte & 0x0F) - 8)
                values[j + 16] = scale * Float(Int(byte >> 4) - 8)
            }
        }
    }

    public static func quantize(_ values: UnsafeBufferPointer<Float>, into blocks: UnsafeMutableRawBufferPointer) {
        for block in 0..<values.count / valuesPerBlock {
            let x = values.baseAddress! + block * valuesPerBlock
            var largest: Float = 0, extreme: Float = 0
            for j in 0..<valuesPerBlock where largest < abs(x[j]) {
                largest = abs(x[j])
                extreme = x[j]
            }
            let scale = extreme / -8
            let inverse: Float = scale == 0 ? 0 : 1 / scale
            let offset = block * bytesPerBlock
            storeFloat16(scale, blocks, at: offset)
            func level(_ value: Float) -> UInt8 { UInt8(min(15, Int8((value * inverse + 8.5).rounded(.towardZero)))) }
            for j in 0..<16 {
                blocks[offset + 2 + j] = level(x[j]) | level(x[j + 16]) << 4
            }
        }
    }
}
