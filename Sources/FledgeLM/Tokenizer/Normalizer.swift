import Foundation

/// A `normalizer` from tokenizer.json: rewrites text before pre-tokenization.
indirect enum Normalizer {
    case nfc, nfd, nfkc, nfkd
    case lowercase
    case prepend(String)
    case replace(SplitPattern, with: String)
    case strip(left: Bool, right: Bool)
    case sequence([Normalizer])

    /// Reads the normalizer described at `field`.
    init(_ field: JSONField) throws(TokenizerError) {
        switch try field.type() {
        case "NFC": self = .nfc
        case "NFD": self = .nfd
        case "NFKC": self = .nfkc
        case "NFKD": self = .nfkd
        case "Lowercase": self = .lowercase
        case "Prepend": self = .prepend(try field["prepend"].string())
        case "Replace": self = .replace(try SplitPattern(field["pattern"]), with: try field["content"].string())
        case "Strip":
            self = .strip(left: try field["strip_left"].bool(default: true), right: try field["strip_right"].bool(default: true))
        case "Sequence":
            self = .sequence(try field["normalizers"].array().map { (element) throws(TokenizerError) in try Normalizer(element) })
        case let other:
            throw field["type"].unsupported("normalizer '\(other)'")
        }
    }

    /// The normalized text.
    func normalize(_ text: String) -> String {
        switch self {
        case .nfc: Self.composed(text)
        case .nfd: text.decomposedStringWithCanonicalMapping
        case .nfkc: Self.composed(text.decomposedStringWithCompatibilityMapping)
        case .nfkd: text.decomposedStringWithCompatibilityMapping
        case .lowercase: text.lowercased()
        case .prepend(let prefix): text.isEmpty ? text : prefix + text
        case .replace(let pattern, let content): Self.replace(pattern, with: content, in: text)
        case .strip(let left, let right): Self.strip(text, left: left, right: right)
        case .sequence(let normalizers): normalizers.reduce(text) { $1.normalize($0) }
        }
    }

    /// NFC by the standard library. Foundation's composition on Linux is wrong for characters outside
    /// the BMP followed by combining marks (it composes U+E007A U+030C into U+017E) and for Hangul
    /// LV + T; its decompositions are right, so NFKC is NFC of Foundation's NFKD.
    private static func composed(_ text: String) -> String {
        String(decoding: text._nfcCodeUnits, as: UTF8.self)
    }

    private static func replace(_ pattern: SplitPattern, with content: String, in text: String) -> String {
        let bytes = Array(text.utf8)
        var result: [UInt8] = []
        var previous = 0
        for match in pattern.matches(in: bytes) {
            result += bytes[previous..<match.lowerBound]
            result += content.utf8
            previous = match.upperBound
        }
        result += bytes[previous...]
        return String(decoding: result, as: UTF8.self)
    }

    private static func strip(_ text: String, left: Bool, right: Bool) -> String {
        var scalars = Substring(text).unicodeScalars
        if left { while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() } }
        if right { while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() } }
        return String(scalars)
    }
}

extension SplitPattern {
    /// Reads a `{"String": ...}` or `{"Regex": ...}` pattern.
    init(_ field: JSONField) throws(TokenizerError) {
        if let literal = try field["String"].optionalString() {
            self = .literal(Array(literal.utf8))
        } else if let regex = try field["Regex"].optionalString() {
            self = try SplitPattern(regex: regex, field: field["Regex"])
        } else {
            throw field.problem("must be {\"String\": ...} or {\"Regex\": ...}")
        }
    }
}
