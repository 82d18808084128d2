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
    /// The search costs up to (text length × separator length) comparisons, which the budget counts.
    static func split(_ text: String, separator: String?, maxSplits: Int, fromRight: Bool, at position: SourcePosition,
                      budget: TemplateBudget) throws(TemplateError) -> [String] {
        try budget.charge(bytes: text.utf8.count * max(separator?.utf8.count ?? 1, 1), at: position)
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
        try budget.charge(pieces.count, at: position)
        let strings = pieces.map { String(String.UnicodeScalarView(fromRight ? Array($0.reversed()) : Array($0))) }
        return fromRight ? strings.reversed() : strings
    }

    /// printf-style `format % arguments` for `%s`, `%r`, `%d`/`%i`, `%f` (with a precision) and `%%`.
    static func format(_ format: String, _ arguments: [TemplateValue], at position: SourcePosition,
                       budget: TemplateBudget) throws(TemplateError) -> String {
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
                let requested = digits.isEmpty ? 0 : Int(digits) ?? .max
                try TemplateLimit.textLength.check(requested, at: position, "the format precision %.\(digits)f asks for more digits")
                precision = requested
            }
            guard let conversion = scalars.popFirst() else { throw .runtime("incomplete format", at: position) }
            if conversion == "%" { result += "%"; continue }
            guard let argument = remaining.popFirst() else { throw .runtime("not enough arguments for format string", at: position) }
            let text: String
            switch conversion {
            case "s": text = try TemplatePrinter.printed(argument, budget: budget, at: position)
            case "r": text = try TemplatePrinter.representation(argument, budget: budget, at: position)
            case "d", "i":
                if let integer = argument.integer {
                    text = String(integer)
                } else if let number = argument.number {
                    text = String(try integer(number, at: position))
                } else {
                    throw .runtime("%\(conversion) format: a real number is required, not \(argument.typeName)", at: position)
                }
            case "f":
                guard let number = argument.number else { throw .runtime("%f format: a real number is required, not \(argument.typeName)", at: position) }
                text = String(format: "%.\(precision ?? 6)f", number)
            default:
                throw .unsupported("the '%\(conversion)' format conversion", at: position)
            }
            try TemplateLimit.textLength.check(result.utf8.count + text.utf8.count, at: position,
                "formatting with % gives more than \(TemplateLimit.textLength.value) bytes of text")
            result += text
        }
        guard remaining.isEmpty else { throw .runtime("not all arguments converted during string formatting", at: position) }
        try budget.charge(bytes: result.utf8.count, at: position)
        return result
    }

    /// Python's `int(number)` of a float (toward zero), as a 64-bit integer.
    static func integer(_ number: Double, at position: SourcePosition) throws(TemplateError) -> Int {
        guard number.isFinite else { throw .runtime("cannot convert float \(number.isNaN ? "NaN" : "infinity") to integer", at: position) }
        guard let integer = Int(exactly: number.rounded(.towardZero)) else {
            throw TemplateOperations.integerOverflow("int(\(number))", at: position)
        }
        return integer
    }

    /// `str.replace(old, new, count)`, measured before it is built.
    static func replace(_ text: String, _ old: String, _ new: String, count: Int, at position: SourcePosition,
                        budget: TemplateBudget) throws(TemplateError) -> String {
        func check(_ length: Int) throws(TemplateError) {
            try TemplateLimit.textLength.check(length, at: position,
                "replacing '\(old)' with a string of \(new.utf8.count) bytes gives a longer text; replace fewer times")
            try budget.charge(bytes: length, at: position)
        }
        // Lengths of strings fit in far fewer than 32 bits, so these products cannot overflow.
        if old.isEmpty {
            // Python inserts `new` before every character and at the end, up to `count` times.
            let characters = text.unicodeScalars.count
            let insertions = count < 0 || count > characters ? characters + 1 : count
            try check(text.utf8.count + insertions * new.utf8.count)
            var scalars = Array(text.unicodeScalars.map { new + String($0) })
            if count >= 0 && count <= scalars.count { scalars = Array(scalars.prefix(count)) + text.unicodeScalars.dropFirst(count).map { String($0) } }
            return scalars.joined() + (count < 0 || count > characters ? new : "")
        }
        let pieces = try split(text, separator: old, maxSplits: count, fromRight: false, at: position, budget: budget)
        try check(text.utf8.count + (pieces.count - 1) * (new.utf8.count - old.utf8.count))
        return pieces.joined(separator: new)
    }

    /// `separator.join(parts)`, measured before it is built.
    static func joined(_ parts: [String], separator: String, at position: SourcePosition, budget: TemplateBudget) throws(TemplateError) -> String {
        let length = parts.reduce(0) { $0 + $1.utf8.count } + max(parts.count - 1, 0) * separator.utf8.count
        try TemplateLimit.textLength.check(length, at: position,
            "joining \(parts.count) strings with a separator of \(separator.utf8.count) bytes gives a longer text")
        try budget.charge(parts.count, at: position)
        try budget.charge(bytes: length, at: position)
        return parts.joined(separator: separator)
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
