/// The absmax of 4-bit weights compressed as bitsandbytes' `compress_statistics` (TRL's
/// `use_bnb_nested_quant`) does: the mean is subtracted, and the differences are quantized in
/// blocks of 256 with the 8-bit dynamic map (`DynamicQuantization`) — one byte per block of 64
/// weights instead of four, plus a float32 scale per 256 blocks and the offset.
///
/// `absmax` decodes them as bitsandbytes does (`code[q] · scale`, then `+ offset`, in float32),
/// so a checkpoint quantized with nested statistics dequantizes to exactly its floats.
public struct NestedAbsmax: Sendable, Equatable {
    /// How many absmax values share one scale.
    public static let blockSize = 256

    /// One 8-bit code per absmax (bitsandbytes' `quant_state.absmax`).
    public let codes: [UInt8]
    /// One scale per `blockSize` codes (`quant_state.state2.absmax`).
    public let scales: [Float]
    /// The mean that was subtracted (`quant_state.offset`).
    public let offset: Float

    /// Wraps stored statistics; throws when the counts do not fit together.
    public init(codes: [UInt8], scales: [Float], offset: Float) throws(QuantizationError) {
        let expected = (codes.count + Self.blockSize - 1) / Self.blockSize
        guard scales.count == expected else {
            throw .mismatchedNestedAbsmax(codes: codes.count, scales: scales.count, expected: expected)
        }
        self.codes = codes
        self.scales = scales
        self.offset = offset
    }

    /// Compresses `absmax`. `offset` defaults to its mean, computed in double precision and
    /// rounded; bitsandbytes takes `torch.mean` in float32, whose summation order depends on the
    /// CPU's vector width, so its offset can differ in the last bit — pass its offset to
    /// reproduce its codes exactly.
    public init(compressing absmax: [Float], offset: Float? = nil) {
        let mean = offset ?? Float(absmax.reduce(0.0) { $0 + Double($1) } / Double(max(absmax.count, 1)))
        let (codes, scales) = DynamicQuantization.quantize(absmax.map { $0 - mean }, blockSize: Self.blockSize)
        self.codes = codes
        self.scales = scales
        self.offset = mean
    }

    /// The absmax values, as bitsandbytes decodes them.
    public var absmax: [Float] {
        DynamicQuantization.dequantize(codes: codes, absmax: scales, blockSize: Self.blockSize).map { $0 + offset }
    }
}
