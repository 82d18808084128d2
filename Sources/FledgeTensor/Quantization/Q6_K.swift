/// llama.cpp's `Q6_K`: super-blocks of 256 weights in 16 groups of 16: 128 bytes of low
/// nibbles, 64 bytes of high two-bit pairs, 16 signed eight-bit group scales and a float16 `d`.
/// For weight i in half h = i / 128, its low nibble is nibble `(i mod 128) / 64` of byte
/// `64·h + i mod 64`, its high bits are bits `2·((i mod 128) / 32)` of byte `128 + 32·h + i mod 32`;
/// the weight is `(d·scale)·(q − 32)` of its group `i / 16`.
public enum Q6_K: BlockFormat {
    public static let name = "q6_k"
    public static let valuesPerBlock = 256
    public static let bytesPerBlock = 210

    public static func dequantize(_ blocks: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Float>) {
        forEachBlock(blocks, output) { block, values in
            let scale = block.float16(at: 208)
            for group in 0..<16 {
                let groupScale = scale * Float(Int8(bitPattern: block[192 + group]))
                for index in group * 16..<group * 16 + 16 {
                    let (half, within) = (index / 128, index % 128)
                    let low = (block[64 * half + within % 64] >> UInt8(4 * (within / 64))) & 0x0F
                    let high = (block[128 + 32 * half + within % 32] >> UInt8(2 * (within / 32))) & 0x03
                    values[index] = groupScale * Float(Int(low | high << 4) - 32)
                }
            }
        }
    }
}
