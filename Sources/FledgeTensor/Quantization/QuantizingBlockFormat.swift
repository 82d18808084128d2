/// A block format that Fledge also produces from float32 weights (quantizing a float checkpoint
/// at load time).
///
/// Each conforming format documents how its quantizer relates to the reference library's: bit
/// for bit the same bytes (Q8_0, Q4_0, NF4, FP4, int8), or the same algorithm within float
/// rounding (Q4_K).
public protocol QuantizingBlockFormat: BlockFormat {
    /// Encodes whole blocks: `values.count` is a multiple of `valuesPerBlock`, `blocks.count` is
    /// `values.count / valuesPerBlock * bytesPerBlock`, and every value is finite
    /// (`QuantizedMatrix` checks that and throws).
    static func quantize(_ values: UnsafeBufferPointer<Float>, into blocks: UnsafeMutableRawBufferPointer)
}

extension BlockFormat {
    /// The number of bytes that `count` values take, or nil when `count` is not a whole number
    /// of blocks.
    public static func byteCount(values count: Int) -> Int? {
        count >= 0 && count % valuesPerBlock == 0 ? count / valuesPerBlock * bytesPerBlock : nil
    }

    /// Writes `value` rounded to float16 (ties to even) at `offset`, little-endian.
    @inline(__always)
    static func storeFloat16(_ value: Float, _ bytes: UnsafeMutableRawBufferPointer, at offset: Int) {
        bytes.storeBytes(of: DType.float16Bits(value).littleEndian, toByteOffset: offset, as: UInt16.self)
    }
}
