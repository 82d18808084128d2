/// Reads values packed least-significant bit first, as Parquet packs levels, dictionary indices,
/// booleans and delta-encoded integers.
enum BitUnpacking {
    /// The `width`-bit value (0…64) that starts `bitOffset` bits after byte `start`; the caller has
    /// checked that its bytes are in `bytes`.
    @inline(__always)
    static func value(in bytes: [UInt8], start: Int, bitOffset: Int, width: Int) -> UInt64 {
        var result: UInt64 = 0
        var taken = 0
        var bit = bitOffset
        while taken < width {
            let byte = UInt64(bytes[start + bit >> 3])
            let shift = bit & 7
            let take = min(8 - shift, width - taken)
            result |= ((byte >> UInt64(shift)) & ((1 << UInt64(take)) - 1)) << UInt64(taken)
            taken += take
            bit += take
        }
        return result
    }

    /// The number of bits needed for values up to `maximum` (Parquet's level bit width).
    static func width(of maximum: Int) -> Int {
        maximum <= 0 ? 0 : Int.bitWidth - maximum.leadingZeroBitCount
    }
}
