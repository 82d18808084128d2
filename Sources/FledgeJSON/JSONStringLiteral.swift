/// A string as a JSON string literal, escaped as Python's `json.dumps` escapes it, shared by
/// every JSON writer in Fledge (safetensors headers, tokenizer and config output).
public enum JSONStringLiteral {
    /// `text` quoted and escaped; with `asciiOnly` (Python's `ensure_ascii=True`) every non-ASCII
    /// scalar becomes `\uXXXX` (a surrogate pair beyond the BMP).
    public static func quoted(_ text: String, asciiOnly: Bool = false) -> String {
        var output = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            default:
                if scalar.value < 0x20 || (asciiOnly && scalar.value > 0x7E) {
                    if scalar.value > 0xFFFF {
                        let offset = scalar.value - 0x10000
                        output += unicodeEscape(0xD800 + (offset >> 10)) + unicodeEscape(0xDC00 + (offset & 0x3FF))
                    } else {
                        output += unicodeEscape(scalar.value)
                    }
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        return output + "\""
    }

    private static func unicodeEscape(_ code: UInt32) -> String {
        let hex = String(code, radix: 16)
        return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    }
}
