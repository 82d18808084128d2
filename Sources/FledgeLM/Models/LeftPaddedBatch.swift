/// Sequences of different lengths left-padded to one length, with the attention mask and the
/// position id of every token (0, 1, … over each row's real tokens; pads get 0).
public struct LeftPaddedBatch: Sendable {
    public let rows: Int
    public let length: Int
    public let ids: [Int]
    public let mask: [Int]
    public let positions: [Int]

    public init(_ sequences: [[Int]], padId: Int) {
        rows = sequences.count
        length = sequences.map(\.count).max() ?? 0
        var ids: [Int] = [], mask: [Int] = [], positions: [Int] = []
        for sequence in sequences {
            let pad = length - sequence.count
            ids += Array(repeating: padId, count: pad) + sequence
            mask += Array(repeating: 0, count: pad) + Array(repeating: 1, count: sequence.count)
            positions += Array(repeating: 0, count: pad) + Array(0..<sequence.count)
        }
        self.ids = ids
        self.mask = mask
        self.positions = positions
    }

    public var hasPadding: Bool { mask.contains(0) }
}
