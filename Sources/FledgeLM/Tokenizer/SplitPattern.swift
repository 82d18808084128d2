import Foundation

/// The pattern of a `Split` pre-tokenizer (or of ByteLevel's built-in regex): finds the matches in
/// a piece of text, as byte ranges.
///
/// The GPT-2, Llama-3 and Qwen2 regexes are matched by hand-written code (``WordSplitPattern``)
/// because they are on every encode's hot path and `NSRegularExpression` is slow; any other regex
/// falls back to `NSRegularExpression`.
enum SplitPattern {
    case literal([UInt8])
    case words(WordSplitPattern)
    case regex(NSRegularExpression)

    static let gpt2 = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// The pattern for a regex from a tokenizer file.
    init(regex: String, field: JSONField) throws(TokenizerError) {
        switch regex {
        case Self.gpt2: self = .words(.gpt2)
        case Self.llama3: self = .words(.llama3(maxDigits: 3))
        case Self.qwen2: self = .words(.llama3(maxDigits: 1))
        default:
            do {
                self = .regex(try NSRegularExpression(pattern: regex))
            } catch {
                throw field.problem("holds a regular expression Fledge cannot compile: \(regex)")
            }
        }
    }

    /// The byte ranges of the matches in `text`, in order.
    func matches(in text: [UInt8]) -> [Range<Int>] {
        switch self {
        case .literal(let needle):
            return Self.literalMatches(of: needle, in: text)
        case .words(let pattern):
            return pattern.matches(in: text)
        case .regex(let regex):
            let string = String(decoding: text, as: UTF8.self)
            // NSRegularExpression counts UTF-16 units; map them to UTF-8 offsets scalar by scalar
            // (String.Index conversions round to whole characters, which would drop matches inside one).
            var utf8Offsets = [Int](repeating: 0, count: string.utf16.count + 1)
            var utf16Offset = 0
            var utf8Offset = 0
            for scalar in string.unicodeScalars {
                utf16Offset += scalar.utf16.count
                utf8Offset += scalar.utf8.count
                utf8Offsets[utf16Offset] = utf8Offset
            }
            return regex.matches(in: string, range: NSRange(location: 0, length: string.utf16.count)).compactMap { match in
                let range = utf8Offsets[match.range.lowerBound]..<utf8Offsets[match.range.upperBound]
                return range.isEmpty ? nil : range
            }
        }
    }

    private static func literalMatches(of needle: [UInt8], in text: [UInt8]) -> [Range<Int>] {
        guard !needle.isEmpty, text.count >= needle.count else { return [] }
        var result: [Range<Int>] = []
        var start = 0
        while start + needle.count <= text.count {
            if text[start] == needle[0] && text[start..<(start + needle.count)].elementsEqual(needle) {
                result.append(start..<(start + needle.count))
                start += needle.count
            } else {
                start += 1
            }
        }
        return result
    }
}

/// How a `Split` pre-tokenizer treats the matches of its pattern (the `behavior` field).
enum SplitBehavior: String {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"

    /// The pieces of `text` (byte ranges, none empty) given the pattern's matches, as `tokenizers` cuts them.
    func pieces(of length: Int, matches: [Range<Int>], invert: Bool) -> [Range<Int>] {
        var segments: [(range: Range<Int>, isMatch: Bool)] = []
        var previous = 0
        for match in matches {
            if match.lowerBound > previous { segments.append((previous..<match.lowerBound, invert)) }
            segments.append((match, !invert))
            previous = match.upperBound
        }
        if previous < length { segments.append((previous..<length, invert)) }
        var result: [Range<Int>] = []
        switch self {
        case .isolated:
            result = segments.map(\.range)
        case .removed:
            result = segments.filter { !$0.isMatch }.map(\.range)
        case .contiguous, .mergedWithPrevious:
            var previousMatch = false
            for segment in segments {
                let merges = self == .contiguous ? segment.isMatch == previousMatch : segment.isMatch && !previousMatch
                if merges, let last = result.last {
                    result[result.count - 1] = last.lowerBound..<segment.range.upperBound
                } else {
                    result.append(segment.range)
                }
                previousMatch = segment.isMatch
            }
        case .mergedWithNext:
            var previousMatch = false
            for segment in segments.reversed() {
                if segment.isMatch && !previousMatch, let last = result.last {
                    result[result.count - 1] = segment.range.lowerBound..<last.upperBound
                } else {
                    result.append(segment.range)
                }
                previousMatch = segment.isMatch
            }
            result.reverse()
        }
        return result.filter { !$0.isEmpty }
    }
}
