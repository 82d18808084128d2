/// The 32 five-bit codes of a `Q5_0` or `Q5_1` block: a 32-bit word of high bits (bit j for
/// weight j) followed by 16 bytes of low nibbles (weights 0…15 low, 16…31 high).
enum FiveBitCodes {
    /// Calls `body(index, code)` for the 32 codes whose high bits start at `offset`.
    @inline(__always)
    static func forEach(_ block: BlockBytes, at offset: Int, _ body: (Int, UInt8) -> Void) {
        let high = block.uint32(at: offset)
        for index in 0..<16 {
            let byte = block[offset + 4 + index]
            body(index, byte & 0x0F | UInt8(truncatingIfNeeded: (high >> UInt32(index)) & 1) << 4)
            body(index + 16, byte >> 4 | UInt8(truncatingIfNeeded: (high >> UInt32(index + 16)) & 1) << 4)
        }
    }
}
