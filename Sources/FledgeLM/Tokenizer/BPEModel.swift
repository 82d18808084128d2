/// The BPE `model` of tokenizer.json: turns one pre-tokenized piece into ids by applying merges
/// in rank order, exactly as `tokenizers`' `BPE::merge_word` does (byte fallback, unknown tokens,
/// `fuse_unk`, `ignore_merges`).
struct BPEModel {
    /// Token string to id, as written in the file.
    let vocabulary: [ExactString: Int]
    /// The bytes each token stands for (in the byte-level alphabet's reading when the
    /// pre-tokenizer is byte-level) to its id.
    private let pieceIDs: [[UInt8]: Int32]
    /// `left << 32 | right` to `rank << 32 | merged id`.
    private let merges: [UInt64: UInt64]
    /// The id of each single byte (byte-level) or ASCII character (otherwise), or -1.
    private let unitIDs: [Int32]
    /// The id of `<0xNN>` for each byte, when `byte_fallback` is on and all are present.
    private let byteFallbackIDs: [Int32]?
    private let unknownID: Int32?
    private let fuseUnknown: Bool
    private let ignoreMerges: Bool
    private let byteLevel: Bool

    /// Reads the model at `field`; `byteLevel` says whether pieces arrive as raw bytes to be read in the
    /// byte-level alphabet.
    init(_ field: JSONField, byteLevel: Bool) throws(TokenizerError) {
        let type = try field.type()
        guard type == "BPE" else { throw field["type"].unsupported("model '\(type)' (only BPE is implemented)") }
        if let dropout = field["dropout"].value.doubleValue, dropout > 0 { throw field["dropout"].unsupported("BPE dropout") }
        for option in ["continuing_subword_prefix", "end_of_word_suffix"] where try !(field[option].optionalString() ?? "").isEmpty {
            throw field[option].unsupported("'\(option)'")
        }
        self.byteLevel = byteLevel
        let vocabularyField = field["vocab"]
        var vocabulary: [ExactString: Int] = [:]
        var pieceIDs: [[UInt8]: Int32] = [:]
        let entries = try vocabularyField.object()
        vocabulary.reserveCapacity(entries.count)
        pieceIDs.reserveCapacity(entries.count)
        var tokenOfID: [Int: String] = [:]
        tokenOfID.reserveCapacity(entries.count)
        for (token, value) in entries.entries {
            guard case .int(let id) = value else {
                throw vocabularyField.problem("must map tokens to non-negative integer ids; '\(token)' maps to \(value.kind)")
            }
            guard Tokenizer.validIDs.contains(id) else {
                throw vocabularyField.problem("maps '\(token)' to \(id); ids must be at least 0 and below \(Tokenizer.validIDs.upperBound)")
            }
            if let other = tokenOfID.updateValue(token, forKey: id) {
                throw vocabularyField.problem("gives id \(id) to both '\(other)' and '\(token)'; each token needs its own id")
            }
            vocabulary[ExactString(token)] = id
            if let bytes = byteLevel ? ByteLevelAlphabet.decode(token) : Array(token.utf8) { pieceIDs[bytes] = Int32(id) }
        }
        self.vocabulary = vocabulary
        self.pieceIDs = pieceIDs
        merges = try Self.readMerges(field["merges"], vocabulary: vocabulary)
        unitIDs = (0..<(byteLevel ? 256 : 128)).map { pieceIDs[[UInt8($0)]] ?? -1 }
        byteFallbackIDs = try field["byte_fallback"].bool(default: false)
            ? (0..<256).map { Int32(vocabulary[ExactString(Self.byteToken(UInt8($0)))] ?? -1) } : nil
        if let unknown = try field["unk_token"].optionalString() {
            guard let id = vocabulary[ExactString(unknown)] else { throw field["unk_token"].problem("names '\(unknown)', which is not in model.vocab") }
            unknownID = Int32(id)
        } else {
            unknownID = nil
        }
        fuseUnknown = try field["fuse_unk"].bool(default: false)
        ignoreMerges = try field["ignore_merges"].bool(default: false)
    }

    private static func byteToken(_ byte: UInt8) -> String {
        let hex = String(byte, radix: 16, uppercase: true)
        return "<0x" + (hex.count == 1 ? "0" + hex : hex) + ">"
    }

    private static func readMerges(_ field: JSONField, vocabulary: [ExactString: Int]) throws(TokenizerError) -> [UInt64: UInt64] {
        let list = field.isNull ? [] : try field.array()
        var merges: [UInt64: UInt64] = [:]
        merges.reserveCapacity(list.count)
        for (rank, merge) in list.enumerated() {
            let left: String, right: String
            switch merge.value {
            case .string(let text):
                let parts = text.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw merge.problem("must be two tokens separated by a space, found \"\(text)\"") }
                (left, right) = (String(parts[0]), String(parts[1]))
            case .array(let pair):
                guard pair.count == 2, case .string(let first) = pair[0], case .string(let second) = pair[1] else {
                    throw merge.problem("must be a pair of token strings")
                }
                (left, right) = (first, second)
            default:
                throw merge.problem("must be a string or a pair of strings, found \(merge.value.kind)")
            }
            guard let leftID = vocabulary[ExactString(left)], let rightID = vocabulary[ExactString(right)] else {
                throw merge.problem("merges '\(vocabulary[ExactString(left)] == nil ? left : right)', which is not in model.vocab")
            }
            guard let mergedID = vocabulary[ExactString(left + right)] else {
                throw merge.problem("makes '\(left + right)', which is not in model.vocab")
            }
            let key = UInt64(leftID) << 32 | UInt64(rightID)
            if merges[key] == nil { merges[key] = UInt64(rank) << 32 | UInt64(mergedID) }
        }
        return merges
    }

    /// The ids of one piece.
    func encode(_ piece: [UInt8], into ids: inout [Int]) {
        if ignoreMerges, let id = pieceIDs[piece] {
            ids.append(Int(id))
            return
        }
        var symbols = initialSymbols(piece)
        merge(&symbols)
        for symbol in symbols { ids.append(Int(symbol)) }
    }

    /// One symbol per character (per byte when byte-level), with byte fallback and unknown tokens.
    private func initialSymbols(_ piece: [UInt8]) -> [Int32] {
        var symbols: [Int32] = []
        symbols.reserveCapacity(piece.count)
        var pendingUnknown = false
        var index = 0
        while index < piece.count {
            let lead = piece[index]
            let length = byteLevel ? 1 : lead.utf8SequenceLength
            let end = min(index + length, piece.count)
            defer { index = end }
            var id: Int32 = -1
            if length == 1 && Int(lead) < unitIDs.count {
                id = unitIDs[Int(lead)]
            } else if !byteLevel, let found = pieceIDs[Array(piece[index..<end])] {
                id = found
            }
            if id >= 0 {
                if pendingUnknown, let unknownID { symbols.append(unknownID) }
                pendingUnknown = false
                symbols.append(id)
                continue
            }
            if let byteFallbackIDs {
                let characterBytes = byteLevel ? Array(String(Character(ByteLevelAlphabet.characters[Int(lead)])).utf8) : Array(piece[index..<end])
                let fallback = characterBytes.map { byteFallbackIDs[Int($0)] }
                if !fallback.contains(-1) {
                    symbols += fallback
                    continue
                }
            }
            if let unknownID {
                if pendingUnknown && !fuseUnknown { symbols.append(unknownID) }
                pendingUnknown = true
            }
        }
        if pendingUnknown, let unknownID { symbols.append(unknownID) }
        return symbols
    }

    /// Applies merges, lowest rank first (leftmost on ties), until none applies.
    private func merge(_ symbols: inout [Int32]) {
        guard symbols.count > 1 else { return }
        var pairs = (0..<(symbols.count - 1)).map { pairValue(symbols[$0], symbols[$0 + 1]) }
        while true {
            var best = UInt64.max
            var bestIndex = -1
            for (index, value) in pairs.enumerated() where value < best {
                best = value
                bestIndex = index
            }
            guard bestIndex >= 0 else { return }
            symbols[bestIndex] = Int32(truncatingIfNeeded: best & 0xFFFF_FFFF)
            symbols.remove(at: bestIndex + 1)
            pairs.remove(at: bestIndex)
            if bestIndex > 0 { pairs[bestIndex - 1] = pairValue(symbols[bestIndex - 1], symbols[bestIndex]) }
            if bestIndex < pairs.count { pairs[bestIndex] = pairValue(symbols[bestIndex], symbols[bestIndex + 1]) }
        }
    }

    /// `rank << 32 | merged id` for a pair, or `UInt64.max` when the pair does not merge.
    private func pairValue(_ left: Int32, _ right: Int32) -> UInt64 {
        merges[UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))] ?? .max
    }
}

extension JSONValue {
    /// The number, for integer or non-integer values.
    var doubleValue: Double? {
        switch self {
        case .int(let integer): Double(integer)
        case .double(let number): number
        default: nil
        }
    }
}
