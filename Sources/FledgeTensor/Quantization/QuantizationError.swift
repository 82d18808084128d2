/// Why a weight cannot be quantized or a quantized weight cannot be read.
public enum QuantizationError: Error, Equatable, CustomStringConvertible {
    /// A format name that no format answers to.
    case unknownFormat(String)
    /// A weight whose size is not a whole number of the format's blocks.
    case notWholeBlocks(weight: String, format: String, values: Int, valuesPerBlock: Int)
    /// A weight holding NaN or an infinity, which no block scale can represent.
    case nonFinite(weight: String, index: Int)
    /// Nested absmax statistics whose code and scale counts do not fit together.
    case mismatchedNestedAbsmax(codes: Int, scales: Int, expected: Int)
    /// Nested absmax compression asked of a format without a per-block absmax.
    case nestedAbsmaxNeedsFourBit(format: String)
    /// Quantized matrices that cannot be stacked into one (none, or different formats or row lengths).
    case cannotStack(weight: String, problem: String)

    public var description: String {
        switch self {
        case .unknownFormat(let name):
            return "unknown quantization '\(name)': use one of \(QuantizationFormat.allCases.map(\.rawValue).joined(separator: ", "))"
        case .notWholeBlocks(let weight, let format, let values, let valuesPerBlock):
            return "\(weight): rows of \(values) values are not a whole number of \(format) blocks of \(valuesPerBlock); "
                + "choose a format with shorter blocks (q8_0 and q4_0: 32; nf4, fp4 and int8: 64)"
        case .nonFinite(let weight, let index):
            return "\(weight): value \(index) is not finite, so it cannot be quantized; check the checkpoint"
        case .nestedAbsmaxNeedsFourBit(let format):
            return "nested absmax quantization (use_bnb_nested_quant) applies to nf4 and fp4, not \(format)"
        case .cannotStack(let weight, let problem):
            return "\(weight): cannot stack its quantized parts: \(problem)"
        case .mismatchedNestedAbsmax(let codes, let scales, let expected):
            return "nested absmax: \(codes) codes need \(expected) scales (one per \(NestedAbsmax.blockSize)), found \(scales)"
        }
    }
}
