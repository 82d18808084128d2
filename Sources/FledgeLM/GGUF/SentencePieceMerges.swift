import FledgeTensor

/// The BPE merges of a SentencePiece vocabulary that stores scores instead of merges (GGUF
/// `tokenizer.ggml.scores`), rebuilt as transformers' `generate_merges` rebuilds them: every split
/// of a token into two vocabulary entries is a merge ranked by the token's score (higher first),
/// ties broken by the lengths of the left and then the right part (longer first), then by the
/// order the tokens and splits were found in.
enum SentencePieceMerges {
    /// `tokens` in vocabulary order with their `scores`; `ids` the vocabulary (the last id of a
    /// repeated token). A token's splits are in order of the parts' ids.
    static func merges(tokens: [String], scores: [Double], ids: [ExactString: Int]) -> [(String, String)] {
        // Python's dict of token → score: a repeated token keeps its first place and its last score.
        var order: [ExactString] = [], score: [ExactString: Double] = [:]
        for (token, value) in zip(tokens, scores) {
            let key = ExactString(token)
            if score.updateValue(value, forKey: key) == nil { order.append(key) }
        }
        struct Candidate {
            let left: String, right: String, score: Double, leftLength: Int, rightLength: Int
        }
        var candidates: [Candidate] = []
        for key in order {
            let scalars = Array(key.value.unicodeScalars)
            var local: [(Candidate, Int, Int)] = []
            for cut in scalars.indices.dropFirst() {
                let left = String(String.UnicodeScalarView(scalars[..<cut])), right = String(String.UnicodeScalarView(scalars[cut...]))
                guard let leftID = ids[ExactString(left)], let rightID = ids[ExactString(right)] else { continue }
                local.append((Candidate(left: left, right: right, score: score[key]!, leftLength: cut, rightLength: scalars.count - cut),
                              leftID, rightID))
            }
            candidates += stableSorted(local) { ($0.1, $0.2) < ($1.1, $1.2) }.map(\.0)
        }
        return stableSorted(candidates) { a, b in
            (a.score, a.leftLength, a.rightLength) > (b.score, b.leftLength, b.rightLength)
        }.map { ($0.left, $0.right) }
    }

    /// `elements` sorted by `before`, equal elements keeping their order (as Python's `sorted`).
    private static func stableSorted<Element>(_ elements: [Element], by before: (Element, Element) -> Bool) -> [Element] {
        elements.enumerated().sorted { a, b in
            before(a.element, b.element) || (!before(b.element, a.element) && a.offset < b.offset)
        }.map(\.element)
    }
}
