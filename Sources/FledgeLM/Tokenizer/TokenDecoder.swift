/// A `decoder` from tokenizer.json: turns token strings back into text, step by step as
/// `tokenizers`' `decode_chain` does.
indirect enum TokenDecoder {
    case byteLevel
    case metaspace(replacement: Unicode.Scalar, prependsFirst: Bool)
    case byteFallback
    case fuse
    case strip(content: Unicode.Scalar, start: Int, stop: Int)
    case replace(SplitPattern, with: String)
    case sequence([TokenDecoder])

    /// Reads the decoder described at `field`.
    init(_ field: JSONField) throws(TokenizerError) {
        switch try field.type() {
        case "ByteLevel": self = .byteLevel
        case "Metaspace":
            let replacement = try field["replacement"].string()
            guard let character = replacement.unicodeScalars.first, replacement.unicodeScalars.count == 1 else {
                throw field["replacement"].problem("must be a single character")
            }
            let scheme = try PreTokenizer.prependScheme(field)
            self = .metaspace(replacement: character, prependsFirst: scheme != "never")
        case "ByteFallback": self = .byteFallback
        case "Fuse": self = .fuse
        case "Strip":
            let content = try field["content"].string()
            guard let character = content.unicodeScalars.first, content.unicodeScalars.count == 1 else { throw field["content"].problem("must be a single character") }
            self = .strip(content: character, start: try field["start"].int(), stop: try field["stop"].int())
        case "Replace":
            self = .replace(try SplitPattern(field["pattern"]), with: try field["content"].string())
        case "Sequence":
            self = .sequence(try field["decoders"].array().map { (element) throws(TokenizerError) in try TokenDecoder(element) })
        case let other:
            throw field["type"].unsupported("decoder '\(other)'")
        }
    }

    /// The decoded text of `tokens`.
    func decode(_ tokens: [String]) -> String {
        chain(tokens).joined()
    }

    private func chain(_ tokens: [String]) -> [String] {
        switch self {
        case .byteLevel:
            var bytes: [UInt8] = []
            for token in tokens { bytes += ByteLevelAlphabet.decode(token) ?? Array(token.utf8) }
            return [String(decoding: bytes, as: UTF8.self)]
        case .metaspace(let replacement, let prependsFirst):
            return tokens.enumerated().map { index, token in
                var text = String.UnicodeScalarView()
                for scalar in token.unicodeScalars {
                    if scalar != replacement { text.append(scalar) } else if index != 0 || !prependsFirst { text.append(" ") }
                }
                return String(text)
            }
        case .byteFallback:
            return Self.byteFallback(tokens)
        case .fuse:
            return [tokens.joined()]
        case .strip(let content, let start, let stop):
            return tokens.map { token in
                let characters = Array(token.unicodeScalars)
                var startCut = 0
                while startCut < min(start, characters.count) && characters[startCut] == content { startCut += 1 }
                var stopCut = characters.count
                while characters.count - stopCut < stop && stopCut > startCut && characters[stopCut - 1] == content { stopCut -= 1 }
                return String(String.UnicodeScalarView(characters[startCut..<stopCut]))
            }
        case .replace(let pattern, let content):
            return tokens.map { Normalizer.replace(pattern, with: content).normalize($0) }
        case .sequence(let steps):
            return steps.reduce(tokens) { $1.chain($0) }
        }
    }

    /// Runs of `<0xNN>` tokens become their UTF-8 text, or one U+FFFD per byte when invalid.
    private static func byteFallback(_ tokens: [String]) -> [String] {
        var result: [String] = []
        var pending: [UInt8] = []
        func flush() {
            guard !pending.isEmpty else { return }
            if let text = String(validating: pending, as: UTF8.self) {
                result.append(text)
            } else {
                result += Array(repeating: "\u{FFFD}", count: pending.count)
            }
            pending.removeAll()
        }
        for token in tokens {
            let utf8 = Array(token.utf8)
            if utf8.count == 6, utf8.starts(with: Array("<0x".utf8)), utf8[5] == UInt8(ascii: ">"),
               let byte = UInt8(String(decoding: utf8[3..<5], as: UTF8.self), radix: 16) {
                pending.append(byte)
            } else {
                flush()
                result.append(token)
            }
        }
        flush()
        return result
    }
}
