/// llama.cpp's `Q5_1`: blocks of 32 weights as a float16 scale `d`, a float16 minimum `m` and 32
/// five-bit codes (`FiveBitCodes`); a weight is `d·q + m`.
public enum Q5_1: BlockFormat {
    public static let name = "q5_1"
    public static let valuesPerBlock = 32
    public static let bytesPerBlock = 24

    public static func dequantize(_ blocks: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Float>) {
        forEachBlock(blocks, output) { block, values in
            let (scale, minimum) = (block.float16(at: 0), block.float16(at: 2))
            FiveBitCodes.forEach(block, at: 4) { index, code in values[index] = scale * Float(code) + minimum }
        }
    }
}
