/// llama.cpp's `Q4_1`: blocks of 32 weights as a float16 scale `d`, a float16 minimum `m` and
/// 32 four-bit codes (low nibbles are weights 0…15, high nibbles 16…31); a weight is `d·q + m`.
public enum Q4_1: BlockFormat {
    public static let name = "q4_1"
    public static let valuesPerBlock = 32
    public static let bytesPerBlock = 20

    public static func dequantize(_ blocks: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Float>) {
        forEachBlock(blocks, output) { block, values in
            let (scale, minimum) = (block.float16(at: 0), block.float16(at: 2))
            for index in 0..<16 {
                let byte = block[4 + index]
                values[index] = scale * Float(byte & 0x0F) + minimum
                values[index + 16] = scale * Float(byte >> 4) + minimum
            }
        }
    }
}
