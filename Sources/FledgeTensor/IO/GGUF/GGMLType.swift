/// A GGML tensor type as a GGUF file names it: its code, block geometry (every type's, so that
/// any tensor's size can be checked) and how Fledge turns it into float32, if it can.
public struct GGMLType: Sendable, CustomStringConvertible {
    /// How the values of a type are stored.
    enum Storage: Sendable {
        /// Plain float32, float16 or bfloat16 values.
        case float32, float16, bfloat16
        /// Blocks of a `BlockFormat`.
        case blocks(any BlockFormat.Type)
        /// A type Fledge does not read.
        case unreadable
    }

    /// The type's code in a GGUF tensor info.
    public let code: UInt32
    /// The name llama.cpp gives it (`Q4_K`).
    public let name: String
    /// Values per block (1 for the plain float types).
    public let valuesPerBlock: Int
    /// Bytes per block.
    public let bytesPerBlock: Int
    let storage: Storage

    public var description: String { name }

    /// Whether Fledge can turn tensors of this type into float32.
    public var isReadable: Bool {
        if case .unreadable = storage { return false }
        return true
    }

    /// The type with `code`, or nil for a code GGML does not define.
    public static func type(code: UInt32) -> GGMLType? { byCode[code] }

    /// The names of the types Fledge reads.
    public static var readableNames: [String] { all.filter(\.isReadable).map(\.name) }

    private static let byCode = Dictionary(uniqueKeysWithValues: all.map { ($0.code, $0) })

    /// Every GGML type (gguf-py's `GGML_QUANT_SIZES`). Making a format readable is replacing its
    /// `.unreadable` with `.blocks(TheFormat.self)`.
    static let all: [GGMLType] = [
        GGMLType(code: 0, name: "F32", valuesPerBlock: 1, bytesPerBlock: 4, storage: .float32),
        GGMLType(code: 1, name: "F16", valuesPerBlock: 1, bytesPerBlock: 2, storage: .float16),
        GGMLType(code: 2, name: "Q4_0", valuesPerBlock: 32, bytesPerBlock: 18, storage: .blocks(Q4_0.self)),
        GGMLType(code: 3, name: "Q4_1", valuesPerBlock: 32, bytesPerBlock: 20, storage: .blocks(Q4_1.self)),
        GGMLType(code: 6, name: "Q5_0", valuesPerBlock: 32, bytesPerBlock: 22, storage: .blocks(Q5_0.self)),
        GGMLType(code: 7, name: "Q5_1", valuesPerBlock: 32, bytesPerBlock: 24, storage: .blocks(Q5_1.self)),
        GGMLType(code: 8, name: "Q8_0", valuesPerBlock: 32, bytesPerBlock: 34, storage: .blocks(Q8_0.self)),
        GGMLType(code: 9, name: "Q8_1", valuesPerBlock: 32, bytesPerBlock: 40, storage: .unreadable),
        GGMLType(code: 10, name: "Q2_K", valuesPerBlock: 256, bytesPerBlock: 84, storage: .blocks(Q2_K.self)),
        GGMLType(code: 11, name: "Q3_K", valuesPerBlock: 256, bytesPerBlock: 110, storage: .blocks(Q3_K.self)),
        GGMLType(code: 12, name: "Q4_K", valuesPerBlock: 256, bytesPerBlock: 144, storage: .blocks(Q4_K.self)),
        GGMLType(code: 13, name: "Q5_K", valuesPerBlock: 256, bytesPerBlock: 176, storage: .blocks(Q5_K.self)),
        GGMLType(code: 14, name: "Q6_K", valuesPerBlock: 256, bytesPerBlock: 210, storage: .blocks(Q6_K.self)),
        GGMLType(code: 15, name: "Q8_K", valuesPerBlock: 256, bytesPerBlock: 292, storage: .unreadable),
        GGMLType(code: 16, name: "IQ2_XXS", valuesPerBlock: 256, bytesPerBlock: 66, storage: .unreadable),
        GGMLType(code: 17, name: "IQ2_XS", valuesPerBlock: 256, bytesPerBlock: 74, storage: .unreadable),
        GGMLType(code: 18, name: "IQ3_XXS", valuesPerBlock: 256, bytesPerBlock: 98, storage: .unreadable),
        GGMLType(code: 19, name: "IQ1_S", valuesPerBlock: 256, bytesPerBlock: 50, storage: .unreadable),
        GGMLType(code: 20, name: "IQ4_NL", valuesPerBlock: 32, bytesPerBlock: 18, storage: .unreadable),
        GGMLType(code: 21, name: "IQ3_S", valuesPerBlock: 256, bytesPerBlock: 110, storage: .unreadable),
        GGMLType(code: 22, name: "IQ2_S", valuesPerBlock: 256, bytesPerBlock: 82, storage: .unreadable),
        GGMLType(code: 23, name: "IQ4_XS", valuesPerBlock: 256, bytesPerBlock: 136, storage: .unreadable),
        GGMLType(code: 24, name: "I8", valuesPerBlock: 1, bytesPerBlock: 1, storage: .unreadable),
        GGMLType(code: 25, name: "I16", valuesPerBlock: 1, bytesPerBlock: 2, storage: .unreadable),
        GGMLType(code: 26, name: "I32", valuesPerBlock: 1, bytesPerBlock: 4, storage: .unreadable),
        GGMLType(code: 27, name: "I64", valuesPerBlock: 1, bytesPerBlock: 8, storage: .unreadable),
        GGMLType(code: 28, name: "F64", valuesPerBlock: 1, bytesPerBlock: 8, storage: .unreadable),
        GGMLType(code: 29, name: "IQ1_M", valuesPerBlock: 256, bytesPerBlock: 56, storage: .unreadable),
        GGMLType(code: 30, name: "BF16", valuesPerBlock: 1, bytesPerBlock: 2, storage: .bfloat16),
        GGMLType(code: 34, name: "TQ1_0", valuesPerBlock: 256, bytesPerBlock: 54, storage: .unreadable),
        GGMLType(code: 35, name: "TQ2_0", valuesPerBlock: 256, bytesPerBlock: 66, storage: .unreadable),
        GGMLType(code: 39, name: "MXFP4", valuesPerBlock: 32, bytesPerBlock: 17, storage: .unreadable),
        GGMLType(code: 40, name: "NVFP4", valuesPerBlock: 64, bytesPerBlock: 36, storage: .unreadable),
        GGMLType(code: 41, name: "Q1_0", valuesPerBlock: 128, bytesPerBlock: 18, storage: .unreadable),
    ]
}
