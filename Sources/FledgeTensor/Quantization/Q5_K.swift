/// llama.cpp's `Q5_K`: super-blocks of 256 weights in 8 groups of 32: float16 `d` and `dmin`,
/// 12 bytes of six-bit group scales and minimums (`KQuantScales`), 32 bytes of high bits (weight
/// i's is bit `i / 32` of byte `i mod 32`) and 128 bytes of low nibbles (group g's from the
/// `g mod 2` nibble of bytes `32·(g / 2)`…). A weight is `(d·scale)·q − dmin·min`.
public enum Q5_K: BlockFormat {
    public static let name = "q5_k"
    public static let valuesPerBlock = 256
    public static let bytesPerBlock = 176

    public static func dequantize(_ blocks: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Float>) {
        forEachBlock(blocks, output) { block, values in
            let (scale, minimumScale) = (block.float16(at: 0), block.float16(at: 2))
            for group in 0..<8 {
                let packed = KQuantScales.scaleAndMinimum(block, at: 4, group: group)
                let (groupScale, groupMinimum) = (scale * Float(packed.scale), minimumScale * Float(packed.minimum))
                for lane in 0..<32 {
                    let low = (block[48 + 32 * (group / 2) + lane] >> UInt8(4 * (group % 2))) & 0x0F
                    let high = (block[16 + lane] >> UInt8(group)) & 1
                    values[32 * group + lane] = groupScale * Float(low | high << 4) - groupMinimum
                }
            }
        }
    }
}
