/// Where a tensor of a GGUF file is and how it is stored.
public struct GGUFTensorInfo: Sendable {
    /// The tensor's name in the file (`blk.0.attn_q.weight`).
    public let name: String
    /// GGML's dimensions, fastest-varying first (`ne[0]` is a row's length).
    public let dimensions: [Int]
    /// The storage type.
    public let type: GGMLType
    /// Where the data starts, relative to the data section.
    public let offset: Int
    /// How many bytes the data takes.
    public let byteCount: Int

    /// The row-major shape (`dimensions` reversed), as PyTorch and Fledge write it.
    public var shape: [Int] { dimensions.reversed() }
    /// The number of values.
    public var count: Int { dimensions.reduce(1, *) }
}
