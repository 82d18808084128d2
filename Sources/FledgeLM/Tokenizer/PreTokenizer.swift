/// A piece of text on its way to the model, with whether it starts the original text (which
/// Metaspace's `prepend_scheme: "first"` asks).
struct TextPiece {
    var bytes: [UInt8]
    var startsText: Bool
}

/// A `pre_tokenizer` from tokenizer.json: cuts normalized text into the pieces the model encodes
/// one by one.
///
/// ByteLevel's mapping of bytes to printable characters is not applied to the text: the model
/// reads raw bytes and its vocabulary is keyed by the bytes each token stands for, which saves a
/// conversion per piece. ``usesByteLevel`` tells the model which reading to use.
indirect enum PreTokenizer {
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    case split(SplitPattern, SplitBehavior, invert: Bool)
    case metaspace(replacement: [UInt8], prependScheme: PrependScheme, split: Bool)
    case sequence([PreTokenizer])

    /// When Metaspace puts the replacement character in front of a piece.
    enum PrependScheme: String { case always, first, never }

    /// Reads the pre-tokenizer described at `field`.
    init(_ field: JSONField) throws(TokenizerError) {
        switch try field.type() {
        case "ByteLevel":
            self = .byteLevel(addPrefixSpace: try field["add_prefix_space"].bool(default: true),
                              useRegex: try field["use_regex"].bool(default: true))
        case "Split":
            let behaviorName = try field["behavior"].string()
            guard let behavior = SplitBehavior(rawValue: behaviorName) else {
                throw field["behavior"].unsupported("split behavior '\(behaviorName)'")
            }
            self = .split(try SplitPattern(field["pattern"]), behavior, invert: try field["invert"].bool(default: false))
        case "Metaspace":
            let replacement = try field["replacement"].string()
            let schemeName = try Self.prependScheme(field)
            guard let scheme = PrependScheme(rawValue: schemeName) else {
                throw field["prepend_scheme"].problem("must be \"always\", \"first\" or \"never\", found \"\(schemeName)\"")
            }
            self = .metaspace(replacement: Array(replacement.utf8), prependScheme: scheme, split: try field["split"].bool(default: true))
        case "Sequence":
            let elements = try field["pretokenizers"].array()
            let steps = try elements.map { (element) throws(TokenizerError) in try PreTokenizer(element) }
            for (index, step) in steps.enumerated() where step.usesByteLevel && index != steps.count - 1 {
                throw elements[index].unsupported("a ByteLevel pre-tokenizer before other pre-tokenizers")
            }
            self = .sequence(steps)
        case let other:
            throw field["type"].unsupported("pre-tokenizer '\(other)'")
        }
    }

    /// `prepend_scheme`, or the older `add_prefix_space` flag it replaced.
    static func prependScheme(_ field: JSONField) throws(TokenizerError) -> String {
        if let scheme = try field["prepend_scheme"].optionalString() { return scheme }
        return try field["add_prefix_space"].bool(default: true) ? "always" : "never"
    }

    /// Whether the pieces are meant to be read in GPT-2's byte-level alphabet.
    var usesByteLevel: Bool {
        switch self {
        case .byteLevel: true
        case .split, .metaspace: false
        case .sequence(let steps): steps.last?.usesByteLevel ?? false
        }
    }

    /// Cuts `pieces` further.
    func split(_ pieces: [TextPiece]) -> [TextPiece] {
        switch self {
        case .sequence(let steps):
            return steps.reduce(pieces) { $1.split($0) }
        case .byteLevel(let addPrefixSpace, let useRegex):
            return pieces.flatMap { piece in
                var piece = piece
                if addPrefixSpace && piece.bytes.first != UInt8(ascii: " ") { piece.bytes.insert(UInt8(ascii: " "), at: 0) }
                return useRegex ? Self.cut(piece, SplitPattern.words(.gpt2).matches(in: piece.bytes), .isolated, invert: false) : [piece]
            }
        case .split(let pattern, let behavior, let invert):
            return pieces.flatMap { Self.cut($0, pattern.matches(in: $0.bytes), behavior, invert: invert) }
        case .metaspace(let replacement, let scheme, let split):
            return pieces.flatMap { piece in
                var bytes: [UInt8] = []
                bytes.reserveCapacity(piece.bytes.count + replacement.count)
                for byte in piece.bytes {
                    if byte == UInt8(ascii: " ") { bytes += replacement } else { bytes.append(byte) }
                }
                let prepend = scheme == .always || (scheme == .first && piece.startsText)
                if prepend && !bytes.starts(with: replacement) { bytes.insert(contentsOf: replacement, at: 0) }
                let spaced = TextPiece(bytes: bytes, startsText: piece.startsText)
                return split ? Self.cut(spaced, SplitPattern.literal(replacement).matches(in: bytes), .mergedWithNext, invert: false) : [spaced]
            }
        }
    }

    private static func cut(_ piece: TextPiece, _ matches: [Range<Int>], _ behavior: SplitBehavior, invert: Bool) -> [TextPiece] {
        behavior.pieces(of: piece.bytes.count, matches: matches, invert: invert).map {
            TextPiece(bytes: Array(piece.bytes[$0]), startsText: piece.startsText && $0.lowerBound == 0)
        }
    }
}
