/// A JSON syntax error with the byte offset, line and column where reading stopped.
public struct JSONSyntaxError: Error, CustomStringConvertible, Sendable {
    /// What was wrong.
    public let message: String
    /// 1-based line of the fault.
    public let line: Int
    /// 1-based column (in bytes) of the fault.
    public let column: Int

    public var description: String { "\(message) at line \(line), column \(column)" }
}

/// Reads JSON text into a ``JSONValue``: the one JSON reader of the package (safetensors headers,
/// config.json and the other model files, tokenizer files, adapter configs, JSON Lines datasets,
/// checkpoints, metrics logs).
///
/// Hand-written over UTF-8 bytes because tokenizer files with 150k-entry vocabularies must load
/// in well under a second, and objects must keep their key order. It is strict where leniency
/// would silently change what a file says: a key given twice in one object (a tensor, token or
/// field listed twice, where Python would keep the last one) is an error, and numbers follow
/// RFC 8259's grammar (no leading zeros, `+` or bare `.`) and must fit a `Double`. Nesting is
/// limited to 512 levels (``maximumDepth``), so that no input overflows the stack.
public struct JSONParser {
    /// The deepest nesting of arrays and objects accepted.
    public static let maximumDepth = 512

    private let bytes: [UInt8]
    private let allowsNonFiniteNumbers: Bool
    private var allowsRepeatedKeys = false
    private var position = 0

    /// Parses one JSON document (surrounding whitespace allowed). With `allowingNonFiniteNumbers`
    /// the bare `NaN`, `Infinity` and `-Infinity` that Python's `json.dumps` writes for non-finite
    /// floats (metrics logs) are read as doubles, as Python's `json.loads` reads them.
    public static func parse(_ bytes: [UInt8], allowingNonFiniteNumbers: Bool = false) throws(JSONSyntaxError) -> JSONValue {
        var parser = JSONParser(bytes: bytes, allowsNonFiniteNumbers: allowingNonFiniteNumbers)
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        if parser.position != bytes.count { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    /// Parses one JSON document from a string.
    public static func parse(_ text: String, allowingNonFiniteNumbers: Bool = false) throws(JSONSyntaxError) -> JSONValue {
        try parse(Array(text.utf8), allowingNonFiniteNumbers: allowingNonFiniteNumbers)
    }

    /// Parses JSON that a model wrote, as Python's `json.loads` reads it: bare `NaN`, `Infinity` and `-Infinity`
    /// are doubles, and a key repeated in one object keeps its first place and its last value.
    public static func parseAsPython(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        let bytes = Array(text.utf8)
        var parser = JSONParser(bytes: bytes, allowsNonFiniteNumbers: true)
        parser.allowsRepeatedKeys = true
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        if parser.position != bytes.count { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    private init(bytes: [UInt8], allowsNonFiniteNumbers: Bool) {
        self.bytes = bytes
        self.allowsNonFiniteNumbers = allowsNonFiniteNumbers
    }

    private func error(_ message: String) -> JSONSyntaxError {
        var line = 1
        var lineStart = 0
        for index in 0..<min(position, bytes.count) where bytes[index] == UInt8(ascii: "\n") {
            line += 1
            lineStart = index + 1
        }
        return JSONSyntaxError(message: message, line: line, column: position - lineStart + 1)
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    private mutating func value(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        guard depth < Self.maximumDepth else { throw error("arrays and objects nested more than \(Self.maximumDepth) deep") }
        skipWhitespace()
        guard position < bytes.count else { throw error("unexpected end of JSON") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return try number()
        }
    }

    private mutating func literal(_ word: String) throws(JSONSyntaxError) {
        let utf8 = word.utf8
        guard position + utf8.count <= bytes.count, bytes[position..<(position + utf8.count)].elementsEqual(utf8) else {
            throw error("invalid literal")
        }
        position += utf8.count
    }

    private mutating func object(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        position += 1
        var object = JSONObject()
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return .object(object)
        }
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let keyStart = position
            let key = try string()
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw error("expected ':'") }
            position += 1
            let item = try value(depth: depth + 1)
            if allowsRepeatedKeys {
                object[key] = item
            } else if !object.insertNew(key, item) {
                position = keyStart
                throw error("key \(JSONStringLiteral.quoted(key)) appears twice in one object")
            }
            skipWhitespace()
            guard position < bytes.count else { throw error("unexpected end of JSON in an object") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            if bytes[position] == UInt8(ascii: "}") { position += 1; return .object(object) }
            throw error("expected ',' or '}'")
        }
    }

    private mutating func array(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        position += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            elements.append(try value(depth: depth + 1))
            skipWhitespace()
            guard position < bytes.count else { throw error("unexpected end of JSON in an array") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            if bytes[position] == UInt8(ascii: "]") { position += 1; return .array(elements) }
            throw error("expected ',' or ']'")
        }
    }

    private mutating func string() throws(JSONSyntaxError) -> String {
        position += 1
        let start = position
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: bytes[start..<position], as: UTF8.self)
                position += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error("control character in a string") }
            position += 1
        }
        var buffer = Array(bytes[start..<position])
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: buffer, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try escape(into: &buffer)
            case 0..<0x20:
                throw error("control character in a string")
            default:
                buffer.append(byte)
            }
        }
        throw error("unterminated string")
    }

    private mutating func escape(into buffer: inout [UInt8]) throws(JSONSyntaxError) {
        guard position < bytes.count else { throw error("unterminated escape") }
        let byte = bytes[position]
        position += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): buffer.append(byte)
        case UInt8(ascii: "b"): buffer.append(0x08)
        case UInt8(ascii: "f"): buffer.append(0x0C)
        case UInt8(ascii: "n"): buffer.append(0x0A)
        case UInt8(ascii: "r"): buffer.append(0x0D)
        case UInt8(ascii: "t"): buffer.append(0x09)
        case UInt8(ascii: "u"):
            var code = try hex4()
            if (0xD800..<0xDC00).contains(code), position + 1 < bytes.count,
               bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") {
                position += 2
                let low = try hex4()
                if (0xDC00..<0xE000).contains(low) {
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    buffer.append(contentsOf: Array(String(Character(Unicode.Scalar(0xFFFD)!)).utf8))
                    code = low
                }
            }
            let scalar = Unicode.Scalar(code) ?? Unicode.Scalar(0xFFFD)!
            buffer.append(contentsOf: Array(String(Character(scalar)).utf8))
        default:
            throw error("invalid escape '\\\(Character(Unicode.Scalar(byte)))'")
        }
    }

    private mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var code: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("invalid \\u escape")
            }
            code = code << 4 | UInt32(digit)
            position += 1
        }
        return code
    }

    /// A number by RFC 8259's grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    private mutating func number() throws(JSONSyntaxError) -> JSONValue {
        if allowsNonFiniteNumbers, let special = nonFiniteNumber() { return .double(special) }
        let start = position
        if byte(is: "-") { position += 1 }
        if byte(is: "0") {
            position += 1
        } else if digits() == 0 {
            throw error(position == start ? "invalid value" : "expected a digit")
        }
        var isInteger = true
        if byte(is: ".") {
            isInteger = false
            position += 1
            guard digits() > 0 else { throw error("expected a digit after '.'") }
        }
        if byte(is: "e") || byte(is: "E") {
            isInteger = false
            position += 1
            if byte(is: "+") || byte(is: "-") { position += 1 }
            guard digits() > 0 else { throw error("expected a digit in the exponent") }
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        if isInteger, let integer = Int(text) { return .int(integer) }
        guard let double = Double(text), double.isFinite else {
            position = start
            throw error("number \(text) is too large")
        }
        return .double(double)
    }

    /// Python's `NaN`, `Infinity` or `-Infinity` at the current position, consumed, or nil.
    private mutating func nonFiniteNumber() -> Double? {
        for (word, number) in [("NaN", Double.nan), ("Infinity", .infinity), ("-Infinity", -.infinity)] {
            let utf8 = word.utf8
            if position + utf8.count <= bytes.count, bytes[position..<(position + utf8.count)].elementsEqual(utf8) {
                position += utf8.count
                return number
            }
        }
        return nil
    }

    private func byte(is character: Unicode.Scalar) -> Bool {
        position < bytes.count && bytes[position] == UInt8(ascii: character)
    }

    /// Skips decimal digits and says how many there were.
    private mutating func digits() -> Int {
        let start = position
        while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
        return position - start
    }
}
