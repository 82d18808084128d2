/// A stretch of text after added tokens are cut out: either an added token's id or a range of
/// bytes for the normalizer, pre-tokenizer and model.
enum TextSegment {
    case token(Int)
    case text(Range<Int>)
}

/// Finds added tokens in text the way `tokenizers`' `AddedVocabulary::find_matches` does:
/// leftmost-longest matches, then the `single_word`, `lstrip` and `rstrip` rules.
struct AddedTokenMatcher {
    /// Candidates by first byte, longest first.
    private let candidates: [[(bytes: [UInt8], token: AddedToken)]]

    /// A matcher for `tokens`, whose text is looked for as `pattern` gives it (normalized tokens are
    /// matched by their normalized content, as in `tokenizers`).
    init(_ tokens: [AddedToken], pattern: (AddedToken) -> String = \.content) {
        var table = [[(bytes: [UInt8], token: AddedToken)]](repeating: [], count: 256)
        for token in tokens {
            let bytes = Array(pattern(token).utf8)
            guard let first = bytes.first else { continue }
            table[Int(first)].append((bytes, token))
        }
        candidates = table.map { $0.sorted { $0.bytes.count > $1.bytes.count } }
        isEmpty = table.allSatisfy { $0.isEmpty }
    }

    /// Whether there is no token to look for.
    let isEmpty: Bool

    /// Cuts `text` into tokens and the text between them (no empty text segments).
    func segments(of text: [UInt8]) -> [TextSegment] {
        var result: [TextSegment] = []
        var consumed = 0
        var position = 0
        while position < text.count {
            guard let match = longestMatch(in: text, at: position) else {
                position += 1
                continue
            }
            var start = position
            var stop = position + match.bytes.count
            position = stop
            if match.token.singleWord && (Self.isWordCharacter(before: start, in: text) || Self.isWordCharacter(at: stop, in: text)) {
                continue
            }
            if match.token.leftStrip { start = max(Self.whitespaceStart(before: start, in: text), consumed) }
            if match.token.rightStrip { stop = Self.whitespaceEnd(from: stop, in: text) }
            if start > consumed { result.append(.text(consumed..<start)) }
            result.append(.token(match.token.id))
            consumed = stop
            position = max(position, stop)
        }
        if consumed < text.count { result.append(.text(consumed..<text.count)) }
        return result
    }

    private func longestMatch(in text: [UInt8], at position: Int) -> (bytes: [UInt8], token: AddedToken)? {
        for candidate in candidates[Int(text[position])] where position + candidate.bytes.count <= text.count {
            if text[position..<(position + candidate.bytes.count)].elementsEqual(candidate.bytes) { return candidate }
        }
        return nil
    }

    private static func scalar(endingAt end: Int, in text: [UInt8]) -> (Unicode.Scalar, Int)? {
        guard end > 0 else { return nil }
        var start = end - 1
        while start > 0 && text[start] & 0xC0 == 0x80 { start -= 1 }
        return (String(decoding: text[start..<end], as: UTF8.self).unicodeScalars.first!, start)
    }

    private static func scalar(startingAt start: Int, in text: [UInt8]) -> (Unicode.Scalar, Int)? {
        guard start < text.count else { return nil }
        var end = start + 1
        while end < text.count && text[end] & 0xC0 == 0x80 { end += 1 }
        return (String(decoding: text[start..<end], as: UTF8.self).unicodeScalars.first!, end)
    }

    /// The Rust regex crate's Unicode `\w` (`tokenizers` tests `single_word` with `^\w` and `\w$`):
    /// alphabetic, marks, decimal digits, connector punctuation, joiners.
    private static func isWord(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.properties.isAlphabetic || scalar.properties.isJoinControl { return true }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }

    private static func isWordCharacter(before index: Int, in text: [UInt8]) -> Bool {
        scalar(endingAt: index, in: text).map { isWord($0.0) } ?? false
    }

    private static func isWordCharacter(at index: Int, in text: [UInt8]) -> Bool {
        scalar(startingAt: index, in: text).map { isWord($0.0) } ?? false
    }

    private static func whitespaceStart(before index: Int, in text: [UInt8]) -> Int {
        var start = index
        while let (scalar, previous) = scalar(endingAt: start, in: text), scalar.properties.isWhitespace { start = previous }
        return start
    }

    private static func whitespaceEnd(from index: Int, in text: [UInt8]) -> Int {
        var end = index
        while let (scalar, next) = scalar(startingAt: end, in: text), scalar.properties.isWhitespace { end = next }
        return end
    }
}
