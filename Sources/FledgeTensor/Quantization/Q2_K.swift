/// llama.cpp's `Q2_K`: super-blocks of 256 weights in 16 groups of 16: 16 bytes of four-bit
/// group scales (low nibble) and minimums (high nibble), 64 bytes of two-bit codes, then float16
/// `d` and `dmin`. Weight i's code is bits `2·((i mod 128) / 32)` of byte `32·(i / 128) + i mod 32`;
/// the weight is `(d·scale)·q − dmin·min` of its group `i / 16`.
public enum Q2_K: BlockFormat {
    public static let name = "q2_k"
    public static let valuesPerBlock = 256
    public static let bytesPerBlock = 84

    public static func dequantize(_ blocks: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Float>) {
        forEachBlock(blocks, output) { block, values in
            let (scale, minimumScale) = (block.float16(at: 80), block.float16(at: 82))
            for group in 0..<16 {
                let packed = block[group]
                let (groupScale, groupMinimum) = (scale * Float(packed & 0x0F), minimumScale * Float(packed >> 4))
                for index in group * 16..<group * 16 + 16 {
                    let byte = block[16 + 32 * (index / 128) + index % 32]
                    let code = (byte >> UInt8(2 * (index % 128 / 32))) & 3
                    values[index] = groupScale * Float(code) - groupMinimum
                }
            }
        }
    }
}
