import FledgeTensor

/// Sequences that share prefixes (a GRPO group's completions of one prompt), packed so that each
/// distinct prefix runs through the model once (Prefix Grouper, arXiv 2506.05433).
///
/// The tokens are one flat run: group 0's prefix, then each of its sequences' own tokens (the
/// suffixes), then group 1's prefix, and so on, with position ids counted as in the unpacked
/// sequences (a suffix continues from its prefix's length). Every layer but attention works on
/// the flat tokens as they are. Attention regroups them (``SharedPrefixBatch/Attention``): the
/// prefixes attend to themselves, left-padded to one length; each suffix's queries attend to
/// `[its prefix's keys and values ; its own]`, gathered from the one copy of the prefix, so the
/// prefix's gradient is the sum over its group. The result equals running every sequence whole,
/// within float rounding.
struct SharedPrefixBatch: Sendable {
    /// Flat token ids and their position ids.
    let ids: [Int]
    let positions: [Int]
    /// Where each sequence's prefix ends and its suffix starts in the flat tokens: `prefixEnd[i]`
    /// is the flat index of the prefix's last token, `suffixStart[i]` of the suffix's first.
    let prefixEnd: [Int]
    let suffixStart: [Int]
    /// How attention regroups the flat tokens.
    let attention: Attention

    /// The index gathers of attention; an index equal to the token count reads a zero row (padding).
    struct Attention: FlatTokenAttention {
        let tokens: Int
        /// Distinct prefixes, the longest prefix, the sequences and the longest suffix (at least 1).
        let groups, prefixLength, rows, suffixLength: Int
        /// `[groups, prefixLength]`: each prefix left-padded, and its key padding (1 real, 0 pad).
        let prefixTokens: [Int]
        let prefixPadding: [Float]
        /// `[rows, prefixLength + suffixLength]`: each sequence's keys (its prefix left-padded,
        /// then its suffix right-padded) and their padding.
        let rowKeys: [Int]
        let rowPadding: [Float]
        /// `[rows, suffixLength]`: each sequence's suffix queries, right-padded.
        let rowQueries: [Int]
        /// For each flat token, where its output is in the prefix outputs followed by the suffix outputs.
        let outputSource: [Int]
    }

    /// `sequences` split at `splitAt[i]` (at least 1: a prefix is never empty) into a prefix and a
    /// suffix; sequences with equal prefixes share one copy of it, in order of first appearance.
    init(_ sequences: [[Int]], splitAt: [Int]) {
        precondition(sequences.count == splitAt.count, "SharedPrefixBatch: \(splitAt.count) split points for \(sequences.count) sequences")
        var groupOf: [[Int]: Int] = [:], members: [[Int]] = []
        var prefixes: [ArraySlice<Int>] = []
        for (index, sequence) in sequences.enumerated() {
            precondition(splitAt[index] >= 1 && splitAt[index] <= sequence.count,
                         "SharedPrefixBatch: sequence \(index) of \(sequence.count) tokens cannot split at \(splitAt[index])")
            let prefix = Array(sequence[..<splitAt[index]])
            if let group = groupOf[prefix] {
                members[group].append(index)
            } else {
                groupOf[prefix] = members.count
                members.append([index])
                prefixes.append(sequence[..<splitAt[index]])
            }
        }
        var ids: [Int] = [], positions: [Int] = []
        var prefixStart = [Int](repeating: 0, count: members.count)
        var prefixEnd = [Int](repeating: 0, count: sequences.count), suffixStart = prefixEnd
        for (group, rows) in members.enumerated() {
            prefixStart[group] = ids.count
            ids += prefixes[group]
            positions += 0..<prefixes[group].count
            for row in rows {
                prefixEnd[row] = prefixStart[group] + prefixes[group].count - 1
                suffixStart[row] = ids.count
                let suffix = sequences[row][splitAt[row]...]
                ids += suffix
                positions += prefixes[group].count..<prefixes[group].count + suffix.count
            }
        }
        self.ids = ids
        self.positions = positions
        self.prefixEnd = prefixEnd
        self.suffixStart = suffixStart

        let tokens = ids.count
        let prefixLength = prefixes.map(\.count).max() ?? 1
        let suffixLengths = sequences.indices.map { sequences[$0].count - splitAt[$0] }
        let suffixLength = Swift.max(suffixLengths.max() ?? 1, 1)
        var prefixTokens: [Int] = [], prefixPadding: [Float] = [], outputSource = [Int](repeating: 0, count: tokens)
        for group in members.indices {
            let pad = prefixLength - prefixes[group].count
            prefixTokens += Array(repeating: tokens, count: pad) + (prefixStart[group]..<prefixStart[group] + prefixes[group].count)
            prefixPadding += Array(repeating: 0, count: pad) + Array(repeating: 1, count: prefixes[group].count)
            for t in 0..<prefixes[group].count { outputSource[prefixStart[group] + t] = group * prefixLength + pad + t }
        }
        let suffixOutputs = members.count * prefixLength
        var rowKeys: [Int] = [], rowPadding: [Float] = [], rowQueries: [Int] = []
        for row in sequences.indices {
            let group = groupOf[Array(sequences[row][..<splitAt[row]])]!
            rowKeys += prefixTokens[group * prefixLength..<(group + 1) * prefixLength]
            rowPadding += prefixPadding[group * prefixLength..<(group + 1) * prefixLength]
            let suffix = suffixStart[row]..<suffixStart[row] + suffixLengths[row]
            let pad = suffixLength - suffix.count
            rowKeys += Array(suffix) + Array(repeating: tokens, count: pad)
            rowPadding += Array(repeating: 1, count: suffix.count) + Array(repeating: 0, count: pad)
            rowQueries += Array(suffix) + Array(repeating: tokens, count: pad)
            for (t, token) in suffix.enumerated() { outputSource[token] = suffixOutputs + row * suffixLength + t }
        }
        attention = Attention(tokens: tokens, groups: members.count, prefixLength: prefixLength, rows: sequences.count,
                              suffixLength: suffixLength, prefixTokens: prefixTokens, prefixPadding: prefixPadding,
                              rowKeys: rowKeys, rowPadding: rowPadding, rowQueries: rowQueries, outputSource: outputSource)
    }
}

extension SharedPrefixBatch.Attention {
    /// Attention regrouped as the batch says: the prefixes, then each suffix after its prefix.
    func attend(query: Tensor, key: Tensor, value: Tensor, slidingWindow: Int?, scale: Float?, softCap: Float?) -> Tensor {
        let (q, k, v) = (query.appendingZeroRow(), key.appendingZeroRow(), value.appendingZeroRow())
        let prefixes = Tensor.scaledDotProductAttention(
            query: q.indexSelect(prefixTokens, indexShape: [groups, prefixLength]),
            key: k.indexSelect(prefixTokens, indexShape: [groups, prefixLength]),
            value: v.indexSelect(prefixTokens, indexShape: [groups, prefixLength]),
            mask: AttentionMask(causal: true, keyPadding: prefixPadding, slidingWindow: slidingWindow), scale: scale, softCap: softCap)
        let keyLength = prefixLength + suffixLength
        let suffixes = Tensor.scaledDotProductAttention(
            query: q.indexSelect(rowQueries, indexShape: [rows, suffixLength]),
            key: k.indexSelect(rowKeys, indexShape: [rows, keyLength]),
            value: v.indexSelect(rowKeys, indexShape: [rows, keyLength]),
            mask: AttentionMask(causal: true, keyPadding: rowPadding, slidingWindow: slidingWindow), scale: scale, softCap: softCap)
        let width = query.shape[1] * query.shape[2]
        return Tensor.concat([prefixes.reshaped([groups * prefixLength, width]), suffixes.reshaped([rows * suffixLength, width])], axis: 0)
            .indexSelect(outputSource, indexShape: [tokens])
    }
}
