/// Writes JSON exactly as Python's `json.dumps` does, which is what chat templates' `tojson`
/// calls in transformers: the one JSON writer of the package (config files, tokenizer files,
/// adapter configs, command output).
public struct JSONWriter: Sendable {
    /// Spaces per nesting level; `nil` writes everything on one line.
    public var indent: Int?
    /// Item and key separators; `nil` means Python's default (`", "`/`": "`, or `","`/`": "` with an indent).
    public var separators: (item: String, key: String)?
    /// Sorts object keys.
    public var sortKeys = false
    /// Escapes every non-ASCII character as `\uXXXX`.
    public var ensureASCII = false

    /// A writer with Python's defaults, except `ensure_ascii=False` as transformers uses.
    public init(indent: Int? = nil, separators: (item: String, key: String)? = nil, sortKeys: Bool = false,
                ensureASCII: Bool = false) {
        self.indent = indent
        self.separators = separators
        self.sortKeys = sortKeys
        self.ensureASCII = ensureASCII
    }

    /// The JSON text of `value`.
    public func string(_ value: JSONValue) -> String {
        var output = ""
        write(value, level: 0, into: &output)
        return output
    }

    private func write(_ value: JSONValue, level: Int, into output: inout String) {
        let itemSeparator = separators?.item ?? (indent == nil ? ", " : ",")
        let keySeparator = separators?.key ?? ": "
        switch value {
        case .null: output += "null"
        case .bool(let flag): output += flag ? "true" : "false"
        case .int(let integer): output += String(integer)
        case .double(let number): output += Self.pythonFloat(number)
        case .string(let text): writeString(text, into: &output)
        case .array(let elements):
            guard !elements.isEmpty else { output += "[]"; return }
            output += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { output += itemSeparator }
                newline(level: level + 1, into: &output)
                write(element, level: level + 1, into: &output)
            }
            newline(level: level, into: &output)
            output += "]"
        case .object(let object):
            guard object.count > 0 else { output += "{}"; return }
            output += "{"
            let entries = sortKeys ? object.entries.sorted { $0.key < $1.key } : object.entries
            for (index, entry) in entries.enumerated() {
                if index > 0 { output += itemSeparator }
                newline(level: level + 1, into: &output)
                writeString(entry.key, into: &output)
                output += keySeparator
                write(entry.value, level: level + 1, into: &output)
            }
            newline(level: level, into: &output)
            output += "}"
        }
    }

    private func newline(level: Int, into output: inout String) {
        guard let indent else { return }
        output += "\n" + String(repeating: " ", count: indent * level)
    }

    private func writeString(_ text: String, into output: inout String) {
        output += JSONStringLiteral.quoted(text, asciiOnly: ensureASCII)
    }

    /// Python's `repr` of a float: shortest round-trip digits, `.0` on integral values,
    /// exponent form outside 1e-4 ..< 1e16.
    public static func pythonFloat(_ number: Double) -> String {
        if number.isNaN { return "NaN" }
        if number.isInfinite { return number < 0 ? "-Infinity" : "Infinity" }
        let magnitude = abs(number)
        if magnitude != 0 && (magnitude < 1e-4 || magnitude >= 1e16) {
            // Python writes the exponent with a sign and at least two digits ("1e-05", "1.5e+16").
            let text = "\(number)"
            guard let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) else { return text }
            let mantissa = text[..<e]
            var exponent = text[text.index(after: e)...]
            var sign = "+"
            if exponent.first == "-" || exponent.first == "+" {
                sign = exponent.first == "-" ? "-" : "+"
                exponent = exponent.dropFirst()
            }
            let digits = exponent.count < 2 ? "0" + exponent : String(exponent)
            return "\(mantissa)e\(sign)\(digits)"
        }
        if number == number.rounded() {
            return (number.sign == .minus ? "-" : "") + String(Int64(magnitude)) + ".0"
        }
        return "\(number)"
    }
}
