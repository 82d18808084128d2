/// The twelve bytes of packed six-bit scales and minimums of the eight 32-weight groups of a
/// `Q4_K` or `Q5_K` super-block (llama.cpp's `get_scale_min_k4`): groups 0…3 keep theirs in the
/// low six bits of bytes 0…3 (scales) and 4…7 (minimums); groups 4…7 take their low four bits
/// from the nibbles of bytes 8…11 and their top two from the top bits of bytes 0…7.
enum KQuantScales {
    /// The scale and minimum of `group` (0…7) from the packed bytes starting at `offset`.
    @inline(__always)
    static func scaleAndMinimum(_ block: BlockBytes, at offset: Int, group: Int) -> (scale: UInt8, minimum: UInt8) {
        if group < 4 { return (block[offset + group] & 0x3F, block[offset + 4 + group] & 0x3F) }
        let mixed = block[offset + 4 + group]
        return (mixed & 0x0F | (block[offset + group - 4] >> 2) & 0x30, mixed >> 4 | (block[offset + group] >> 2) & 0x30)
    }
}
