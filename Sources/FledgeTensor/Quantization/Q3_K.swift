/// llama.cpp's `Q3_K`: super-blocks of 256 weights in 16 groups of 16: 32 bytes of high bits
/// (weight i's is bit `i / 32` of byte `i mod 32`), 64 bytes of low two-bit codes (laid out as in
/// `Q2_K`), 12 bytes of six-bit signed group scales, and a float16 `d`. A weight is
/// `(d·(scale − 32))·(low − 4·(1 − high))`.
public enum Q3_K: BlockFormat {
    public static let name = "q3_k"
    public static let valuesPerBlock = 256
    public static let bytesPerBlock = 110

    public static func dequantize(_ blocks: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Float>) {
        forEachBlock(blocks, output) { block, values in
            let scale = block.float16(at: 108)
            for group in 0..<16 {
                // Low four bits: nibble `group / 8` of byte 96 + group mod 8; high two bits: bits
                // 2·(group / 4) of byte 104 + group mod 4.
                let low = (block[96 + group % 8] >> UInt8(4 * (group / 8))) & 0x0F
                let high = (block[104 + group % 4] >> UInt8(2 * (group / 4))) & 0x03
                let groupScale = scale * Float(Int(low | high << 4) - 32)
                for index in group * 16..<group * 16 + 16 {
                    let lowCode = (block[32 + 32 * (index / 128) + index % 32] >> UInt8(2 * (index % 128 / 32))) & 3
                    let highBit = (block[index % 32] >> UInt8(index / 32)) & 1
                    values[index] = groupScale * Float(Int(lowCode) - 4 * Int(highBit ^ 1))
                }
            }
        }
    }
}
