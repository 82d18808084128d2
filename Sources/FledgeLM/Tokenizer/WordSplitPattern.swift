/// Hand-written matchers for the GPT-2, Llama-3 and Qwen2 pre-tokenizer regexes, with the
/// regexes' exact leftmost-first semantics (Oniguruma, as `tokenizers` uses):
///
/// - GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
/// - Llama-3 (`maxDigits` 3) and Qwen2 (`maxDigits` 1):
///   `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
enum WordSplitPattern {
    case gpt2
    case llama3(maxDigits: Int)

    /// Character classes the patterns distinguish.
    private enum Class: UInt8 { case other, letter, number, space }

    private static let asciiClasses: [Class] = (0..<128).map { classify(Unicode.Scalar(UInt8($0))) }

    private static func classify(_ scalar: Unicode.Scalar) -> Class {
        let properties = scalar.properties
        if properties.isWhitespace { return .space }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }

    /// The byte ranges of the matches in the UTF-8 text.
    func matches(in text: [UInt8]) -> [Range<Int>] {
        var scalars: [Unicode.Scalar] = []
        var classes: [Class] = []
        var offsets: [Int] = []
        scalars.reserveCapacity(text.count)
        classes.reserveCapacity(text.count)
        offsets.reserveCapacity(text.count + 1)
        var index = 0
        while index < text.count {
            let lead = text[index]
            offsets.append(index)
            if lead < 0x80 {
                scalars.append(Unicode.Scalar(lead))
                classes.append(Self.asciiClasses[Int(lead)])
                index += 1
                continue
            }
            let length = lead.utf8SequenceLength
            var value = UInt32(lead) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
            for next in (index + 1)..<min(index + length, text.count) { value = value << 6 | UInt32(text[next] & 0x3F) }
            let scalar = Unicode.Scalar(value) ?? "\u{FFFD}"
            scalars.append(scalar)
            classes.append(Self.classify(scalar))
            index += length
        }
        offsets.append(text.count)
        var result: [Range<Int>] = []
        var position = 0
        while position < scalars.count {
            let end = matchEnd(at: position, scalars, classes)
            result.append(offsets[position]..<offsets[end])
            position = end
        }
        return result
    }

    /// The end (exclusive, in scalars) of the match that starts at `start`.
    private func matchEnd(at start: Int, _ scalars: [Unicode.Scalar], _ classes: [Class]) -> Int {
        let count = scalars.count
        func run(from index: Int, _ kind: Class, limit: Int = .max) -> Int {
            var end = index
            while end < count && classes[end] == kind && end - index < limit { end += 1 }
            return end
        }
        func isNewline(_ index: Int) -> Bool { scalars[index] == "\n" || scalars[index] == "\r" }
        func whitespace() -> Int {
            let end = run(from: start, .space)
            if case .llama3 = self, let last = (start..<end).last(where: isNewline) { return last + 1 }
            return end == count || end - start == 1 ? end : end - 1
        }
        if let contraction = contractionEnd(at: start, scalars) { return contraction }
        let hasSpacePrefix = scalars[start] == " " && start + 1 < count
        switch self {
        case .gpt2:
            for kind in [Class.letter, .number, .other] {
                if classes[start] == kind { return run(from: start, kind) }
                if hasSpacePrefix && classes[start + 1] == kind { return run(from: start + 1, kind) }
            }
            return whitespace()
        case .llama3(let maxDigits):
            if classes[start] == .letter { return run(from: start, .letter) }
            if classes[start] != .number && !isNewline(start) && start + 1 < count && classes[start + 1] == .letter {
                return run(from: start + 1, .letter)
            }
            if classes[start] == .number { return run(from: start, .number, limit: maxDigits) }
            let symbolStart = hasSpacePrefix && classes[start + 1] == .other ? start + 1 : start
            if classes[symbolStart] == .other {
                var end = run(from: symbolStart, .other)
                while end < count && isNewline(end) { end += 1 }
                return end
            }
            return whitespace()
        }
    }

    /// The end of `'s|'t|'re|'ve|'m|'ll|'d` at `start` (case-insensitive for Llama-3), if it matches.
    private func contractionEnd(at start: Int, _ scalars: [Unicode.Scalar]) -> Int? {
        guard scalars[start] == "'", start + 1 < scalars.count else { return nil }
        let ignoreCase: Bool = if case .llama3 = self { true } else { false }
        func letter(_ offset: Int) -> Unicode.Scalar? {
            guard start + offset < scalars.count else { return nil }
            let scalar = scalars[start + offset]
            guard ignoreCase else { return scalar }
            if scalar == "\u{17F}" { return "s" }  // LATIN SMALL LETTER LONG S folds to "s"
            return scalar.value >= 0x41 && scalar.value <= 0x5A ? Unicode.Scalar(scalar.value + 0x20) : scalar
        }
        switch letter(1) {
        case "s", "t", "m", "d": return start + 2
        case "r", "v": return letter(2) == "e" ? start + 3 : nil
        case "l": return letter(2) == "l" ? start + 3 : nil
        default: return nil
        }
    }
}
