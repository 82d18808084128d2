import Foundation

/// Jinja's attribute and item access, iteration and operators, with Python's semantics.
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
    static func item(_ value: TemplateValue, _ key: TemplateValue, at position: SourcePosition) throws(TemplateError) -> TemplateValue {
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
            let scalars = Array(text.unicodeScalars)
            guard let index = key.integer, let resolved = resolve(index, count: scalars.count) else { return .undefined("item") }
            return .string(String(scalars[resolved]))
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
                      at position: SourcePosition) throws(TemplateError) -> TemplateValue {
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
            return Array(Swift.stride(from: first, to: last, by: stride))
        }
        switch value {
        case .list(let elements):
            return .list(try indices(elements.count).map { elements[$0] })
        case .tuple(let elements):
            return .tuple(try indices(elements.count).map { elements[$0] })
        case .string(let text):
            let scalars = Array(text.unicodeScalars)
            return .string(String(String.UnicodeScalarView(try indices(scalars.count).map { scalars[$0] })))
        case .undefined(let missing):
            throw .runtime("'\(missing)' is undefined", at: position)
        default:
            throw .runtime("'\(value.typeName)' object is not subscriptable", at: position)
        }
    }

    /// The elements a `for` loop (or `list`) visits.
    static func iterate(_ value: TemplateValue, at position: SourcePosition) throws(TemplateError) -> [TemplateValue] {
        switch value {
        case .undefined: []
        case .list(let elements), .tuple(let elements): elements
        case .dictionary(let dictionary): dictionary.keys.map { .string($0) }
        case .string(let text): text.unicodeScalars.map { .string(String($0)) }
        default: throw .runtime("'\(value.typeName)' object is not iterable", at: position)
        }
    }

    static func unary(_ op: String, _ value: TemplateValue, at position: SourcePosition) throws(TemplateError) -> TemplateValue {
        switch (op, value) {
        case ("not", _): return .bool(!value.isTruthy)
        case ("-", .int(let integer)): return .int(-integer)
        case ("-", .double(let number)): return .double(-number)
        case ("+", .int), ("+", .double): return value
        default: throw .runtime("bad operand type for unary \(op): '\(value.typeName)'", at: position)
        }
    }

    static func binary(_ op: String, _ left: TemplateValue, _ right: TemplateValue, at position: SourcePosition) throws(TemplateError) -> TemplateValue {
        switch op {
        case "==": return .bool(left == right)
        case "!=": return .bool(left != right)
        case "<", ">", "<=", ">=": return .bool(try compare(op, left, right, at: position))
        case "in": return .bool(try contains(right, left, at: position))
        case "~": return .string(left.printed + right.printed)
        default: break
        }
        for operand in [left, right] {
            if case .undefined(let missing) = operand { throw .runtime("'\(missing)' is undefined", at: position) }
        }
        switch (op, left, right) {
        case ("+", .string(let a), .string(let b)): return .string(a + b)
        case ("+", .list(let a), .list(let b)): return .list(a + b)
        case ("+", .tuple(let a), .tuple(let b)): return .tuple(a + b)
        case ("*", .string(let text), .int(let count)), ("*", .int(let count), .string(let text)):
            return .string(String(repeating: text, count: max(count, 0)))
        case ("*", .list(let elements), .int(let count)):
            return .list(Array(repeatElement(elements, count: max(count, 0)).joined()))
        case ("%", .string(let format), _):
            return .string(try PythonString.format(format, right.elements ?? [right], at: position))
        default:
            return try arithmetic(op, left, right, at: position)
        }
    }

    private static func arithmetic(_ op: String, _ left: TemplateValue, _ right: TemplateValue, at position: SourcePosition) throws(TemplateError) -> TemplateValue {
        guard let a = left.number, let b = right.number else {
            throw .runtime("unsupported operand types for \(op): '\(left.typeName)' and '\(right.typeName)'", at: position)
        }
        if let x = left.integer, let y = right.integer, op != "/" {
            switch op {
            case "+": return .int(x + y)
            case "-": return .int(x - y)
            case "*": return .int(x * y)
            case "//", "%":
                guard y != 0 else { throw .runtime("integer division or modulo by zero", at: position) }
                let quotient = Int((Double(x) / Double(y)).rounded(.down))
                return op == "//" ? .int(quotient) : .int(x - quotient * y)
            case "**" where y >= 0: return .int(Int(pow(Double(x), Double(y))))
            default: break
            }
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
        case "**": return .double(pow(a, b))
        default: throw .unsupported("the '\(op)' operator", at: position)
        }
    }

    private static func compare(_ op: String, _ left: TemplateValue, _ right: TemplateValue, at position: SourcePosition) throws(TemplateError) -> Bool {
        let order: Int
        if let a = left.number, let b = right.number {
            order = a < b ? -1 : a > b ? 1 : 0
        } else if case .string(let a) = left, case .string(let b) = right {
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

    /// Python's `needle in haystack`.
    static func contains(_ haystack: TemplateValue, _ needle: TemplateValue, at position: SourcePosition) throws(TemplateError) -> Bool {
        switch haystack {
        case .undefined: return false
        case .list(let elements), .tuple(let elements): return elements.contains(needle)
        case .dictionary(let dictionary):
            guard case .string(let key) = needle else { return false }
            return dictionary[key] != nil
        case .string(let text):
            guard case .string(let part) = needle else {
                throw .runtime("'in <string>' requires string as left operand, not \(needle.typeName)", at: position)
            }
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
