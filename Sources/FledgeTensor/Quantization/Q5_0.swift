/// llama.cpp's `Q5_0`: blocks of 32 weights as a float16 scale `d` and 32 five-bit codes
/// (`FiveBitCodes`); a weight is `d·(q − 16)`.
public enum Q5_0: BlockFormat {
    public static let name = "q5_0"
    public static let valuesPerBlock = 32
    public static let bytesPerBlock = 22

    public static func dequantize(_ blocks: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Float>) {
        forEachBlock(blocks, output) { block, values in
            let scale = block.float16(at: 0)
            FiveBitCodes.forEach(block, at: 2) { index, code in values[index] = scale * Float(Int(code) - 16) }
        }
    }
}
