import FledgeTensor

/// Sequences run padding-free, as transformers runs TRL's packed rows: their tokens end to end in
/// one flat run, position ids restarting at 0 at each sequence, each token attending only to the
/// tokens before it in its own sequence. Every layer but attention works on the flat tokens
/// without any padding; attention gathers each sequence into a right-padded row of the longest
/// sequence's length (``Attention``). The result equals running every sequence on its own, within
/// float rounding.
struct PaddingFreeBatch: Sendable {
    /// Flat token ids and their position ids.
    let ids: [Int]
    let positions: [Int]
    /// Where each sequence starts in the flat tokens.
    let starts: [Int]
    /// How attention regroups the flat tokens.
    let attention: Attention

    /// The index gathers of attention; an index equal to the token count reads a zero row (padding).
    struct Attention: FlatTokenAttention {
        let tokens: Int
        /// The sequences and the longest one's length (at least 1).
        let rows, length: Int
        /// `[rows, length]`: each sequence's flat tokens, right-padded, and their key padding (1 real, 0 pad).
        let rowTokens: [Int]
        let rowPadding: [Float]
        /// For each flat token, where its output is in the `[rows · length]` outputs.
        let outputSource: [Int]

        func attend(query: Tensor, key: Tensor, value: Tensor, slidingWindow: Int?, scale: Float?, softCap: Float?) -> Tensor {
            let shape = [rows, length]
            let attended = Tensor.scaledDotProductAttention(
                query: query.appendingZeroRow().indexSelect(rowTokens, indexShape: shape),
                key: key.appendingZeroRow().indexSelect(rowTokens, indexShape: shape),
                value: value.appendingZeroRow().indexSelect(rowTokens, indexShape: shape),
                mask: AttentionMask(causal: true, keyPadding: rowPadding, slidingWindow: slidingWindow), scale: scale, softCap: softCap)
            return attended.reshaped([rows * length, query.shape[1] * query.shape[2]]).indexSelect(outputSource, indexShape: [tokens])
        }
    }

    /// `sequences` end to end; none may be empty.
    init(_ sequences: [[Int]]) {
        precondition(!sequences.contains(where: \.isEmpty), "PaddingFreeBatch: an empty sequence")
        ids = Array(sequences.joined())
        positions = sequences.flatMap { 0..<$0.count }
        var starts: [Int] = [], total = 0
        for sequence in sequences {
            starts.append(total)
            total += sequence.count
        }
        self.starts = starts
        let length = max(sequences.map(\.count).max() ?? 1, 1)
        var rowTokens: [Int] = [], rowPadding: [Float] = [], outputSource: [Int] = []
        for (row, sequence) in sequences.enumerated() {
            let pad = length - sequence.count
            rowTokens += Array(starts[row]..<starts[row] + sequence.count) + Array(repeating: total, count: pad)
            rowPadding += Array(repeating: 1, count: sequence.count) + Array(repeating: 0, count: pad)
            outputSource += (0..<sequence.count).map { row * length + $0 }
        }
        attention = Attention(tokens: total, rows: sequences.count, length: length, rowTokens: rowTokens,
                              rowPadding: rowPadding, outputSource: outputSource)
    }
}
