/// Conversions between float32 and the 16-bit float formats, as raw bit patterns.
///
/// All conversions are bit manipulation (no `Float16` type, which is missing on some
/// platforms), branch-free in the loops so that they vectorise, and exact:
///
/// - float32 → float16 and float32 → bfloat16 round to nearest, ties to even; float16
///   overflows to infinity (65520 and up), tiny values become float16 subnormals or zero.
/// - float16 → float32 and bfloat16 → float32 are exact, subnormals included.
/// - NaN stays NaN with its sign. float16 keeps the top payload bits (so every float16
///   bit pattern survives float16 → float32 → float16 unchanged); bfloat16 NaNs are quieted
///   (the quiet bit is set, the top payload bits kept), so a signalling NaN whose payload sits
///   in the dropped bits stays a NaN. PyTorch writes NaN as 0x7FC0 or 0xFFFF; both load as NaN.
extension DType {
    /// Converts each float to float16 bits (round to nearest even).
    public static func convertToFloat16(_ source: UnsafeBufferPointer<Float>, into destination: UnsafeMutableBufferPointer<UInt16>) {
        convert(source, into: destination, float16Bits)
    }

    /// Converts float16 bit patterns to floats (exact).
    public static func convertFromFloat16(_ source: UnsafeBufferPointer<UInt16>, into destination: UnsafeMutableBufferPointer<Float>) {
        convert(source, into: destination, float(fromFloat16Bits:))
    }

    /// Converts each float to bfloat16 bits (round to nearest even; NaN stays a quiet NaN).
    public static func convertToBFloat16(_ source: UnsafeBufferPointer<Float>, into destination: UnsafeMutableBufferPointer<UInt16>) {
        convert(source, into: destination, bfloat16Bits)
    }

    /// Converts bfloat16 bit patterns to floats (exact).
    public static func convertFromBFloat16(_ source: UnsafeBufferPointer<UInt16>, into destination: UnsafeMutableBufferPointer<Float>) {
        convert(source, into: destination, float(fromBFloat16Bits:))
    }

    @inline(__always)
    private static func convert<Source, Destination>(
        _ source: UnsafeBufferPointer<Source>, into destination: UnsafeMutableBufferPointer<Destination>,
        _ transform: (Source) -> Destination
    ) {
        precondition(source.count == destination.count, "conversion of \(source.count) values into \(destination.count) slots")
        guard let from = source.baseAddress, let to = destination.baseAddress else { return }
        for index in 0..<source.count { to[index] = transform(from[index]) }
    }

    /// The float16 bit pattern nearest to `value` (ties to even).
    @inline(__always)
    public static func float16Bits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = (bits >> 16) & 0x8000
        let magnitude = bits & 0x7FFF_FFFF
        // Normal results: rebias the exponent (127 → 15) and round the 13 dropped bits to
        // nearest even; a carry out of the mantissa correctly bumps the exponent, up to inf.
        let odd = (magnitude >> 13) & 1
        let normal = (magnitude &+ 0xC800_0FFF &+ odd) >> 13
        // Subnormal results (|value| < 2^-14): adding 0.5 puts the float16 subnormal step
        // (2^-24) at the last mantissa bit, so the FPU does the rounding.
        let subnormal = (Float(bitPattern: magnitude) + 0.5).bitPattern &- 0x3F00_0000
        // NaN keeps its top payload bits; if they are all zero, set one so it stays NaN.
        let payload = (magnitude >> 13) & 0x3FF
        let nan = 0x7C00 | payload | (payload == 0 ? 1 : 0)
        let infOrNaN: UInt32 = magnitude > 0x7F80_0000 ? nan : 0x7C00
        let finite = magnitude < 0x3880_0000 ? subnormal : normal
        return UInt16(truncatingIfNeeded: (magnitude >= 0x4780_0000 ? infOrNaN : finite) | sign)
    }

    /// The float a float16 bit pattern stands for (exact).
    @inline(__always)
    public static func float(fromFloat16Bits bits: UInt16) -> Float {
        let half = UInt32(bits)
        let shifted = (half & 0x7FFF) << 13
        let exponent = shifted & 0x0F80_0000
        let rebiased = shifted &+ 0x3800_0000  // exponent 15 → 127
        let infOrNaN = rebiased &+ 0x3800_0000  // all exponent bits set
        // Subnormal: give it the smallest normal exponent, then subtract that power of two.
        let subnormal = (Float(bitPattern: rebiased &+ 0x0080_0000) - Float(bitPattern: 0x3880_0000)).bitPattern
        let magnitude = exponent == 0x0F80_0000 ? infOrNaN : (exponent == 0 ? subnormal : rebiased)
        return Float(bitPattern: magnitude | ((half & 0x8000) << 16))
    }

    /// The bfloat16 bit pattern nearest to `value` (ties to even; NaN becomes a quiet NaN).
    @inline(__always)
    public static func bfloat16Bits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        let rounded = (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16
        let nan = (bits >> 16) | 0x0040
        return UInt16(truncatingIfNeeded: (bits & 0x7FFF_FFFF) > 0x7F80_0000 ? nan : rounded)
    }

    /// The float a bfloat16 bit pattern stands for (exact).
    @inline(__always)
    public static func float(fromBFloat16Bits bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }
}
