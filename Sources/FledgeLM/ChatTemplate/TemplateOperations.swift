import Foundation

/// Jinja's attribute and item access, iteration and operators, with Python's semantics, within
/// ``TemplateLimit``: integer arithmetic is checked, strings and lists are measured before they are
/// built, and comparing, searching and copying count their work against the render's budget.
enum TemplateOperations {
    /// `value.name`: Jinja tries the Python attribute (a method) first, then the item.
    static func attribute(_ value: TemplateValue, _ name: String, at position: SourcePosition) throws(TemplateError) -> TemplateValue {
        switch value {
        case .undefined(let missing):
            throw .runtime("'\(missing)' is undefined", at: position)
        case .dictionary(let dictionary):
            if let method = try TemplateMethods.method(name, of: value, at: position) { return method }
            return dictionary[name] ?? .undefined(name)
        case .namespace(let namespace):
            return namespace.attributes[name] ?? .undefined(name)
        case .string, .list, .tuple:
            return try TemplateMethods.method(name, of: value, at: position) ?? .undefined(name)
        default:
            return .undefined(name)
        }
    }

    /// `value[key]`: Jinja tries the item first, then (for string keys) the attribute; misses are undefined.
    static func item(_ value: TemplateValue, _ key: TemplateValue, at position: SourcePosition, budget: TemplateBudget) throws(TemplateError) -> TemplateValue {
        switch (value, key) {
        case (.undefined(let missing), _):
            throw .runtime("'\(missing)' is undefined", at: position)
        case (.dictionary(let dictionary), .string(let name)):
            if let found = dictionary[name] { return found }
            return try attribute(value, name, at: position)
        case (.list(let elements), _), (.tuple(let elements), _):
            guard let index = key.integer, let resolved = resolve(index, count: elements.count) else { return .undefined("item") }
            return elements[resolved]
        case (.string(let text), _):
            try budget.charge(bytes: text.utf8.count, at: position)
            let scalars = text.unicodeScalars
            guard let index = key.integer, let resolved = resolve(index, count: scalars.count) else { return .undefined("item") }
            return .string(String(scalars[scalars.index(scalars.startIndex, offsetBy: resolved)]))
        case (_, .string(let name)):
            return try attribute(value, name, at: position)
        default:
            return .undefined("item")
        }
    }

    private static func resolve(_ index: Int, count: Int) -> Int? {
        let resolved = index < 0 ? index + count : index
        return resolved >= 0 && resolved < count ? resolved : nil
    }

    /// `value[start:stop:step]` on lists and strings, as Python slices.
    static func slice(_ value: TemplateValue, start: TemplateValue?, stop: TemplateValue?, step: TemplateValue?,
                      at position: SourcePosition, budget: TemplateBudget) throws(TemplateError) -> TemplateValue {
        func bound(_ value: TemplateValue?) throws(TemplateError) -> Int? {
            guard let value, !(value == .none) else { return nil }
            guard let integer = value.integer else { throw .runtime("slice indices must be integers or None", at: position) }
            return integer
        }
        let stride = try bound(step) ?? 1
        guard stride != 0 else { throw .runtime("slice step cannot be zero", at: position) }
        func indices(_ count: Int) throws(TemplateError) -> [Int] {
            func clamp(_ index: Int?, _ defaultValue: Int) -> Int {
                guard let index else { return defaultValue }
                let resolved = index < 0 ? index + count : index
                return stride > 0 ? min(max(resolved, 0), count) : min(max(resolved, -1), count - 1)
            }
            let first = clamp(try bound(start), stride > 0 ? 0 : count - 1)
            let last = clamp(try bound(stop), stride > 0 ? count : -1)
            let result = Array(Swift.stride(from: first, to: last, by: stride))
            try budget.charge(result.count, at: position)
            return result
        }
        switch value {
        case .list(let elements):
            return .list(try indices(elements.count).map { elements[$0] })
        case .tuple(let elements):
            return .tuple(try indices(elements.count).map { elements[$0] })
        case .string(let text):
            try budget.charge(bytes: text.utf8.count, at: position)
            let scalars = Array(text.unicodeScalars)
            return .string(String(String.UnicodeScalarView(try indices(scalars.count).map { scalars[$0] })))
        case .undefined(let missing):
            throw .runtime("'\(missing)' is undefined", at: position)
        default:
            throw .runtime("'\(value.typeName)' object is not subscriptable", at: position)
        }
    }

    /// The elements a `for` loop (or `list`) visits. A string's characters and a dictionary's keys
    /// become values of their own, a step each, counted before they are made.
    static func iterate(_ value: TemplateValue, at position: SourcePosition, budget: TemplateBudget) throws(TemplateError) -> [TemplateValue] {
        switch value {
        case .undefined: return []
        case .list(let elements), .tuple(let elements): return elements
        case .dictionary(let dictionary):
            try budget.charge(dictionary.count, at: position)
            return dictionary.keys.map { .string($0) }
        case .string(let text):
            // A byte a step: at least one step per character.
            try budget.charge(text.utf8.count, at: position)
            return text.unicodeScalars.map { .string(String($0)) }
        default: throw .runtime("'\(value.typeName)' object is not iterable", at: position)
        }
    }

    static func unary(_ op: String, _ value: TemplateValue, at position: SourcePosition) throws(TemplateError) -> TemplateValue {
        switch (op, value) {
        case ("not", _): return .bool(!value.isTruthy)
        case ("-", .int(let integer)):
            let (negated, overflow) = 0.subtractingReportingOverflow(integer)
            guard !overflow else { throw integerOverflow("-(\(integer))", at: position) }
            return .int(negated)
        case ("-", .double(let number)): return .double(-number)
        case ("+", .int), ("+", .double): return value
        default: throw .runtime("bad operand type for unary \(op): '\(value.typeName)'", at: position)
        }
    }

    static func binary(_ op: String, _ left: TemplateValue, _ right: TemplateValue, at position: SourcePosition,
                       budget: TemplateBudget) throws(TemplateError) -> TemplateValue {
        switch op {
        case "==": return .bool(try equal(left, right, at: position, budget: budget))
        case "!=": return .bool(try !equal(left, right, at: position, budget: budget))
        case "<", ">", "<=", ">=": return .bool(try compare(op, left, right, at: position, budget: budget))
        case "in": return .bool(try contains(right, left, at: position, budget: budget))
        case "~":
            return .string(try concatenated(TemplatePrinter.printed(left, budget: budget, at: position),
                                            TemplatePrinter.printed(right, budget: budget, at: position), at: position, budget: budget))
        default: break
        }
        for operand in [left, right] {
            if case .undefined(let missing) = operand { throw .runtime("'\(missing)' is undefined", at: position) }
        }
        switch (op, left, right) {
        case ("+", .string(let a), .string(let b)): return .string(try concatenated(a, b, at: position, budget: budget))
        case ("+", .list(let a), .list(let b)): return .list(try concatenated(a, b, at: position, budget: budget))
        case ("+", .tuple(let a), .tuple(let b)): return .tuple(try concatenated(a, b, at: position, budget: budget))
        case ("*", .string(let text), .int(let count)), ("*", .int(let count), .string(let text)):
            let repeats = max(count, 0)
            let length = text.utf8.count.multipliedReportingOverflow(by: repeats)
            try TemplateLimit.textLength.check(length.overflow ? .max : length.partialValue, at: position,
                "a string of \(text.utf8.count) bytes repeated \(repeats) times would be longer; repeat it fewer times")
            try budget.charge(bytes: length.partialValue, at: position)
            return .string(String(repeating: text, count: repeats))
        case ("*", .list(let elements), .int(let count)):
            let repeats = max(count, 0)
            let length = elements.count.multipliedReportingOverflow(by: repeats)
            try TemplateLimit.listLength.check(length.overflow ? .max : length.partialValue, at: position,
                "a list of \(elements.count) items repeated \(repeats) times would be longer; repeat it fewer times")
            try budget.charge(length.partialValue, at: position)
            return .list(Array(repeatElement(elements, count: repeats).joined()))
        case ("%", .string(let format), _):
            return .string(try PythonString.format(format, right.elements ?? [right], at: position, budget: budget))
        default:
            return try arithmetic(op, left, right, at: position)
        }
    }

    /// `a + b` (or `a ~ b`) for strings, measured before it is built.
    private static func concatenated(_ a: String, _ b: String, at position: SourcePosition, budget: TemplateBudget) throws(TemplateError) -> String {
        let length = a.utf8.count + b.utf8.count
        try TemplateLimit.textLength.check(length, at: position, "joining strings of \(a.utf8.count) and \(b.utf8.count) bytes would be longer")
        try budget.charge(bytes: length, at: position)
        return a + b
    }

    /// `a + b` for lists and tuples, measured before it is built.
    private static func concatenated(_ a: [TemplateValue], _ b: [TemplateValue], at position: SourcePosition,
                                     budget: TemplateBudget) throws(TemplateError) -> [TemplateValue] {
        try TemplateLimit.listLength.check(a.count + b.count, at: position, "joining lists of \(a.count) and \(b.count) items would be longer")
        try budget.charge(a.count + b.count, at: position)
        return a + b
    }

    private static func arithmetic(_ op: String, _ left: TemplateValue, _ right: TemplateValue, at position: SourcePosition) throws(TemplateError) -> TemplateValue {
        guard let a = left.number, let b = right.number else {
            throw .runtime("unsupported operand types for \(op): '\(left.typeName)' and '\(right.typeName)'", at: position)
        }
        if let x = left.integer, let y = right.integer, op != "/", !(op == "**" && y < 0) {
            return .int(try integerArithmetic(op, x, y, at: position))
        }
        switch op {
        case "+": return .double(a + b)
        case "-": return .double(a - b)
        case "*": return .double(a * b)
        case "/", "//", "%":
            guard b != 0 else { throw .runtime("division by zero", at: position) }
            if op == "/" { return .double(a / b) }
            let quotient = (a / b).rounded(.down)
            return .double(op == "//" ? quotient : a - quotient * b)
        case "**":
            guard a != 0 || b >= 0 else { throw .runtime("0.0 cannot be raised to a negative power", at: position) }
            return .double(pow(a, b))
        default: throw .unsupported("the '\(op)' operator", at: position)
        }
    }

    /// Python's integer `+ - * // % **` on 64-bit integers: a result outside them is an error, not a trap.
    private static func integerArithmetic(_ op: String, _ x: Int, _ y: Int, at position: SourcePosition) throws(TemplateError) -> Int {
        let result: (partialValue: Int, overflow: Bool)
        switch op {
        case "+": result = x.addingReportingOverflow(y)
        case "-": result = x.subtractingReportingOverflow(y)
        case "*": result = x.multipliedReportingOverflow(by: y)
        case "//", "%":
            guard y != 0 else { throw .runtime("integer division or modulo by zero", at: position) }
            // Python floors the quotient, so the remainder takes the divisor's sign.
            let (quotient, overflow) = x.dividedReportingOverflow(by: y)
            var (floored, remainder) = (quotient, x.remainderReportingOverflow(dividingBy: y).partialValue)
            if remainder != 0 && (remainder < 0) != (y < 0) {
                floored -= 1
                remainder += y
            }
            result = op == "//" ? (floored, overflow) : (remainder, false)
        case "**": result = power(x, y)
        default: throw .unsupported("the '\(op)' operator", at: position)
        }
        guard !result.overflow else { throw integerOverflow("\(x) \(op) \(y)", at: position) }
        return result.partialValue
    }

    /// `base ** exponent` (`exponent >= 0`) by repeated squaring, reporting overflow as soon as it happens.
    private static func power(_ base: Int, _ exponent: Int) -> (partialValue: Int, overflow: Bool) {
        var (result, square, remaining) = (1, base, exponent)
        while remaining > 0 {
            if remaining & 1 == 1 {
                let product = result.multipliedReportingOverflow(by: square)
                if product.overflow { return product }
                result = product.partialValue
            }
            remaining >>= 1
            // A square that overflows would overflow the result too, as a higher bit still multiplies it in.
            if remaining > 0 {
                let product = square.multipliedReportingOverflow(by: square)
                if product.overflow { return product }
                square = product.partialValue
            }
        }
        return (result, false)
    }

    static func integerOverflow(_ expression: String, at position: SourcePosition) -> TemplateError {
        .limitExceeded(.integerMagnitude, "\(expression) does not fit in the 64-bit integers Fledge computes with "
            + "(Python's integers are unbounded); keep the numbers smaller", at: position)
    }

    private static func compare(_ op: String, _ left: TemplateValue, _ right: TemplateValue, at position: SourcePosition,
                                budget: TemplateBudget) throws(TemplateError) -> Bool {
        let order: Int
        if let a = left.number, let b = right.number {
            order = a < b ? -1 : a > b ? 1 : 0
        } else if case .string(let a) = left, case .string(let b) = right {
            try budget.charge(bytes: min(a.utf8.count, b.utf8.count), at: position)
            order = a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars) ? -1 : ExactString(a) == ExactString(b) ? 0 : 1
        } else {
            throw .runtime("'\(op)' not supported between instances of '\(left.typeName)' and '\(right.typeName)'", at: position)
        }
        switch op {
        case "<": return order < 0
        case ">": return order > 0
        case "<=": return order <= 0
        default: return order >= 0
        }
    }

    /// Python's `==` (see ``TemplateValue/==(_:_:)``), counting each item and 64 bytes of text compared.
    /// It recurses into nested values, so it leaves comparing strings and dictionaries to others.
    static func equal(_ left: TemplateValue, _ right: TemplateValue, at position: SourcePosition, budget: TemplateBudget) throws(TemplateError) -> Bool {
        switch (left, right) {
        case (.string, .string): return try equalStrings(left, right, at: position, budget: budget)
        case (.list(let a), .list(let b)), (.tuple(let a), .tuple(let b)):
            try budget.charge(1, at: position)
            guard a.count == b.count else { return false }
            for (x, y) in zip(a, b) where try !equal(x, y, at: position, budget: budget) { return false }
            return true
        case (.dictionary, .dictionary): return try equalDictionaries(left, right, at: position, budget: budget)
        default: return left == right
        }
    }

    private static func equalStrings(_ left: TemplateValue, _ right: TemplateValue, at position: SourcePosition,
                                     budget: TemplateBudget) throws(TemplateError) -> Bool {
        guard case .string(let a) = left, case .string(let b) = right else { return false }
        try budget.charge(bytes: min(a.utf8.count, b.utf8.count), at: position)
        return ExactString(a) == ExactString(b)
    }

    private static func equalDictionaries(_ left: TemplateValue, _ right: TemplateValue, at position: SourcePosition,
                                          budget: TemplateBudget) throws(TemplateError) -> Bool {
        guard case .dictionary(let a) = left, case .dictionary(let b) = right else { return false }
        try budget.charge(1, at: position)
        guard a.count == b.count else { return false }
        for (key, x) in a.entries {
            guard let y = b[key], try equal(x, y, at: position, budget: budget) else { return false }
        }
        return true
    }

    /// Python's `needle in haystack`.
    static func contains(_ haystack: TemplateValue, _ needle: TemplateValue, at position: SourcePosition,
                         budget: TemplateBudget) throws(TemplateError) -> Bool {
        switch haystack {
        case .undefined: return false
        case .list(let elements), .tuple(let elements):
            for element in elements where try equal(element, needle, at: position, budget: budget) { return true }
            return false
        case .dictionary(let dictionary):
            guard case .string(let key) = needle else { return false }
            return dictionary[key] != nil
        case .string(let text):
            guard case .string(let part) = needle else {
                throw .runtime("'in <string>' requires string as left operand, not \(needle.typeName)", at: position)
            }
            try budget.charge(bytes: text.utf8.count * max(part.utf8.count, 1), at: position)
            return part.isEmpty || text.utf8.firstRange(of: part.utf8) != nil
        default:
            throw .runtime("argument of type '\(haystack.typeName)' is not iterable", at: position)
        }
    }
}

extension TemplateValue {
    /// The value of ints and bools (Python's `bool` is an `int`).
    var integer: Int? {
        switch self {
        case .int(let integer): integer
        case .bool(let flag): flag ? 1 : 0
        default: nil
        }
    }
}
