import Foundation

/// Python's string operations, on Unicode scalars (Python's characters).
enum PythonString {
    /// `str.strip(chars)`: whitespace when `characters` is nil.
    static func strip(_ text: String, characters: String?, left: Bool = true, right: Bool = true) -> String {
        let set = characters.map { Set($0.unicodeScalars) }
        func removable(_ scalar: Unicode.Scalar) -> Bool { set?.contains(scalar) ?? isSpace(scalar) }
        var scalars = Substring(text).unicodeScalars
        if left { while let first = scalars.first, removable(first) { scalars.removeFirst() } }
        if right { while let last = scalars.last, removable(last) { scalars.removeLast() } }
        return String(scalars)
    }

    /// Python's `str.isspace` for one character.
    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace || ("\u{1C}"..."\u{1F}").contains(scalar)
    }

    /// `str.split(sep, maxsplit)` and `str.rsplit`; `separator` nil splits on whitespace runs.
    static func split(_ text: String, separator: String?, maxSplits: Int, fromRight: Bool) -> [String] {
        // rsplit is split on the reversed text, with the pieces reversed back.
        let scalars = fromRight ? Array(text.unicodeScalars.reversed()) : Array(text.unicodeScalars)
        let needle = separator.map { fromRight ? Array($0.unicodeScalars.reversed()) : Array($0.unicodeScalars) }
        var remaining = maxSplits < 0 ? Int.max : maxSplits
        var pieces: [ArraySlice<Unicode.Scalar>] = []
        var index = 0
        if let needle {
            var start = 0
            while remaining > 0 && index + needle.count <= scalars.count {
                if scalars[index..<(index + needle.count)].elementsEqual(needle) {
                    pieces.append(scalars[start..<index])
                    index += needle.count
                    start = index
                    remaining -= 1
                } else {
                    index += 1
                }
            }
            pieces.append(scalars[start...])
        } else {
            while remaining > 0 {
                while index < scalars.count && isSpace(scalars[index]) { index += 1 }
                if index == scalars.count { break }
                let start = index
                while index < scalars.count && !isSpace(scalars[index]) { index += 1 }
                pieces.append(scalars[start..<index])
                remaining -= 1
            }
            while index < scalars.count && isSpace(scalars[index]) { index += 1 }
            if index < scalars.count { pieces.append(scalars[index...]) }
        }
        let strings = pieces.map { String(String.UnicodeScalarView(fromRight ? Array($0.reversed()) : Array($0))) }
        return fromRight ? strings.reversed() : strings
    }

    /// printf-style `format % arguments` for `%s`, `%r`, `%d`/`%i`, `%f` (with a precision) and `%%`.
    static func format(_ format: String, _ arguments: [TemplateValue], at position: SourcePosition) throws(TemplateError) -> String {
        var result = ""
        var remaining = arguments[...]
        var scalars = format.unicodeScalars[...]
        while let scalar = scalars.popFirst() {
            guard scalar == "%" else { result.unicodeScalars.append(scalar); continue }
            var precision: Int? = nil
            if scalars.first == "." {
                scalars.removeFirst()
                var digits = ""
                while let digit = scalars.first, ("0"..."9").contains(digit) { digits.unicodeScalars.append(scalars.removeFirst()) }
                precision = Int(digits) ?? 0
            }
            guard let conversion = scalars.popFirst() else { throw .runtime("incomplete format", at: position) }
            if conversion == "%" { result += "%"; continue }
            guard let argument = remaining.popFirst() else { throw .runtime("not enough arguments for format string", at: position) }
            switch conversion {
            case "s": result += argument.printed
            case "r": result += argument.representation
            case "d", "i":
                guard let number = argument.number else { throw .runtime("%\(conversion) format: a real number is required, not \(argument.typeName)", at: position) }
                result += String(Int(number))
            case "f":
                guard let number = argument.number else { throw .runtime("%f format: a real number is required, not \(argument.typeName)", at: position) }
                result += String(format: "%.\(precision ?? 6)f", number)
            default:
                throw .unsupported("the '%\(conversion)' format conversion", at: position)
            }
        }
        guard remaining.isEmpty else { throw .runtime("not all arguments converted during string formatting", at: position) }
        return result
    }

    /// `str.replace(old, new, count)`.
    static func replace(_ text: String, _ old: String, _ new: String, count: Int) -> String {
        if old.isEmpty {
            var scalars = Array(text.unicodeScalars.map { new + String($0) })
            if count >= 0 && count <= scalars.count { scalars = Array(scalars.prefix(count)) + text.unicodeScalars.dropFirst(count).map { String($0) } }
            return scalars.joined() + (count < 0 || count > text.unicodeScalars.count ? new : "")
        }
        return split(text, separator: old, maxSplits: count, fromRight: false).joined(separator: new)
    }

    /// `str.title()`: uppercase after non-letters, lowercase elsewhere.
    static func title(_ text: String) -> String {
        var result = ""
        var previousIsCased = false
        for scalar in text.unicodeScalars {
            let character = String(scalar)
            result += previousIsCased ? character.lowercased() : character.uppercased()
            previousIsCased = scalar.properties.isCased
        }
        return result
    }

    /// `str.capitalize()`: first character uppercase, the rest lowercase.
    static func capitalize(_ text: String) -> String {
        guard let first = text.unicodeScalars.first else { return text }
        return String(first).uppercased() + String(text.unicodeScalars.dropFirst()).lowercased()
    }

    /// `str.isdigit()` and friends.
    static func classify(_ text: String, _ method: String) -> Bool {
        let scalars = text.unicodeScalars
        switch method {
        case "isdigit": return !scalars.isEmpty && scalars.allSatisfy { $0.properties.numericType == .digit || $0.properties.numericType == .decimal }
        case "isspace": return !scalars.isEmpty && scalars.allSatisfy(isSpace)
        case "isalpha": return !scalars.isEmpty && scalars.allSatisfy { $0.properties.isAlphabetic }
        case "isupper": return scalars.contains { $0.properties.isCased } && !scalars.contains { $0.properties.isLowercase }
        default: return scalars.contains { $0.properties.isCased } && !scalars.contains { $0.properties.isUppercase }
        }
    }
}
