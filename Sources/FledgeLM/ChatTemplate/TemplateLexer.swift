/// One token of a Jinja template.
struct TemplateToken: Equatable {
    enum Kind: Equatable {
        case text(String)
        case blockBegin, blockEnd, variableBegin, variableEnd
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        case symbol(String)
        case end
    }

    let kind: Kind
    let position: SourcePosition
}

/// Splits template source into text and tag tokens with Jinja's whitespace rules as transformers
/// configures them: `trim_blocks` and `lstrip_blocks` on, `{%-`/`-%}` stripping, `+` to opt out,
/// newlines normalised to `\n`, and one trailing newline dropped.
struct TemplateLexer {
    private let source: [Unicode.Scalar]
    private var index = 0
    private var line = 1
    private var column = 1
    private(set) var tokens: [TemplateToken] = []

    static func tokenize(_ template: String) throws(TemplateError) -> [TemplateToken] {
        var lexer = TemplateLexer(template)
        try lexer.run()
        return lexer.tokens
    }

    private init(_ template: String) {
        var text = template.replacingNewlines()
        if text.last == "\n" { text.removeLast() }
        source = Array(text.unicodeScalars)
    }

    private var position: SourcePosition { SourcePosition(line: line, column: column) }

    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        index + offset < source.count ? source[index + offset] : nil
    }

    private mutating func advance(_ count: Int = 1) {
        for _ in 0..<count where index < source.count {
            if source[index] == "\n" { line += 1; column = 1 } else { column += 1 }
            index += 1
        }
    }

    private func startsTag(at offset: Int) -> Unicode.Scalar? {
        guard offset + 1 < source.count, source[offset] == "{" else { return nil }
        let next = source[offset + 1]
        return next == "{" || next == "%" || next == "#" ? next : nil
    }

    private mutating func run() throws(TemplateError) {
        var lineStarting = true
        while index < source.count {
            var tagStart = index
            while tagStart < source.count && startsTag(at: tagStart) == nil { tagStart += 1 }
            var text = Array(source[index..<tagStart])
            let textPosition = position
            let kind = tagStart < source.count ? startsTag(at: tagStart) : nil
            if let kind {
                let sign = tagStart + 2 < source.count ? source[tagStart + 2] : nil
                if sign == "-" {
                    while let last = text.last, last.properties.isWhitespace { text.removeLast() }
                } else if sign != "+" && kind != "{" {
                    let lineStart = (text.lastIndex(of: "\n").map { $0 + 1 }) ?? 0
                    let rest = text[lineStart...]
                    if (lineStart > 0 || lineStarting) && !rest.isEmpty && rest.allSatisfy({ $0.properties.isWhitespace }) {
                        text.removeSubrange(lineStart...)
                    }
                }
            }
            if !text.isEmpty { tokens.append(TemplateToken(kind: .text(String(String.UnicodeScalarView(text))), position: textPosition)) }
            advance(tagStart - index)
            guard let kind else { break }
            let hasSign = peek(2) == "-" || peek(2) == "+"
            let tagPosition = position
            advance(hasSign ? 3 : 2)
            switch kind {
            case "#": try skipComment(from: tagPosition)
            case "%":
                tokens.append(TemplateToken(kind: .blockBegin, position: tagPosition))
                try lexTag(closing: "%", from: tagPosition)
            default:
                tokens.append(TemplateToken(kind: .variableBegin, position: tagPosition))
                try lexTag(closing: "}", from: tagPosition)
            }
            lineStarting = index > 0 && source[index - 1] == "\n"
        }
        tokens.append(TemplateToken(kind: .end, position: position))
    }

    /// After a tag: `-` strips all following whitespace; block and comment tags drop one newline (trim_blocks) unless `+`.
    private mutating func finishTag(sign: Unicode.Scalar?, isBlock: Bool) {
        if sign == "-" {
            while let next = peek(), next.properties.isWhitespace { advance() }
        } else if isBlock && sign != "+" && peek() == "\n" {
            advance()
        }
    }

    private mutating func skipComment(from start: SourcePosition) throws(TemplateError) {
        while index < source.count {
            if peek() == "#" && peek(1) == "}" {
                let sign = index > 0 ? source[index - 1] : nil
                advance(2)
                finishTag(sign: sign == "-" || sign == "+" ? sign : nil, isBlock: true)
                return
            }
            advance()
        }
        throw .syntax("unclosed comment", at: start)
    }

    private mutating func lexTag(closing: Unicode.Scalar, from start: SourcePosition) throws(TemplateError) {
        var braceDepth = 0
        while true {
            while let next = peek(), next.properties.isWhitespace { advance() }
            guard let scalar = peek() else { throw .syntax("unclosed tag", at: start) }
            let here = position
            var sign: Unicode.Scalar? = nil
            if (scalar == "-" || scalar == "+") && peek(1) == closing && peek(2) == "}" && braceDepth == 0 {
                sign = scalar
                advance()
            }
            if peek() == closing && peek(1) == "}" && braceDepth == 0 {
                advance(2)
                tokens.append(TemplateToken(kind: closing == "%" ? .blockEnd : .variableEnd, position: here))
                finishTag(sign: sign, isBlock: closing == "%")
                return
            }
            if scalar == "\"" || scalar == "'" {
                tokens.append(TemplateToken(kind: .string(try stringLiteral(quote: scalar)), position: here))
            } else if scalar.properties.isAlphabetic || scalar == "_" {
                var name = String.UnicodeScalarView()
                while let next = peek(), next.properties.isAlphabetic || next == "_" || ("0"..."9").contains(next) {
                    name.append(next)
                    advance()
                }
                tokens.append(TemplateToken(kind: .name(String(name)), position: here))
            } else if ("0"..."9").contains(scalar) {
                tokens.append(TemplateToken(kind: try numberLiteral(at: here), position: here))
            } else {
                let symbol = operatorSymbol()
                if symbol == "{" || symbol == "[" || symbol == "(" { braceDepth += 1 }
                if symbol == "}" || symbol == "]" || symbol == ")" { braceDepth -= 1 }
                tokens.append(TemplateToken(kind: .symbol(symbol), position: here))
            }
        }
    }

    private mutating func operatorSymbol() -> String {
        let two = [peek(), peek(1)].compactMap { $0 }.map(String.init).joined()
        for candidate in ["**", "//", "==", "!=", "<=", ">="] where two == candidate {
            advance(2)
            return candidate
        }
        let one = String(peek()!)
        advance()
        return one
    }

    private mutating func numberLiteral(at start: SourcePosition) throws(TemplateError) -> TemplateToken.Kind {
        var text = ""
        var isFloat = false
        while let next = peek() {
            if ("0"..."9").contains(next) || next == "_" {
                if next != "_" { text.unicodeScalars.append(next) }
            } else if next == "." && !isFloat, let after = peek(1), ("0"..."9").contains(after) {
                isFloat = true
                text += "."
            } else if (next == "e" || next == "E"), let after = peek(1), ("0"..."9").contains(after) || after == "-" || after == "+" {
                isFloat = true
                text += "e"
                advance()
                text.unicodeScalars.append(peek()!)
            } else {
                break
            }
            advance()
        }
        if isFloat { return .float(Double(text) ?? 0) }
        guard let integer = Int(text) else { throw TemplateOperations.integerOverflow("the integer literal \(text)", at: start) }
        return .integer(integer)
    }

    private mutating func stringLiteral(quote: Unicode.Scalar) throws(TemplateError) -> String {
        let start = position
        advance()
        var value = String.UnicodeScalarView()
        while let scalar = peek() {
            advance()
            if scalar == quote { return String(value) }
            guard scalar == "\\" else { value.append(scalar); continue }
            guard let escaped = peek() else { break }
            advance()
            switch escaped {
            case "n": value.append("\n")
            case "t": value.append("\t")
            case "r": value.append("\r")
            case "\\", "'", "\"": value.append(escaped)
            case "u", "x", "U":
                let digits = escaped == "x" ? 2 : escaped == "u" ? 4 : 8
                var code: UInt32 = 0
                for _ in 0..<digits {
                    guard let hex = peek(), let digit = UInt32(String(hex), radix: 16) else {
                        throw .syntax("invalid \\\(escaped) escape in a string", at: start)
                    }
                    code = code * 16 + digit
                    advance()
                }
                value.append(Unicode.Scalar(code) ?? "\u{FFFD}")
            default:
                value.append("\\")
                value.append(escaped)
            }
        }
        throw .syntax("unclosed string literal", at: start)
    }
}

extension String {
    /// The text with `\r\n` and `\r` replaced by `\n`, as Jinja reads template source.
    func replacingNewlines() -> String {
        var result = String.UnicodeScalarView()
        var previousWasReturn = false
        for scalar in unicodeScalars {
            if scalar == "\n" && previousWasReturn { previousWasReturn = false; continue }
            previousWasReturn = scalar == "\r"
            result.append(scalar == "\r" ? "\n" : scalar)
        }
        return String(result)
    }
}
