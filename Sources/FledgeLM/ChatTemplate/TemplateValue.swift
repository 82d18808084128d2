/// A value while a template renders, with Python's semantics (Jinja runs on Python objects).
indirect enum TemplateValue {
    /// A missing variable, attribute or item; remembers its name for error messages.
    case undefined(String)
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([TemplateValue])
    /// A Python tuple: `(a, b)` literals and the pairs of `items()`; prints as `(a, b)`.
    case tuple([TemplateValue])
    case dictionary(OrderedStringDictionary<TemplateValue>)
    case namespace(Namespace)
    case function(TemplateFunction)

    /// A `namespace(...)` object, whose attributes `{% set ns.x = ... %}` changes from inside loops.
    final class Namespace {
        var attributes: OrderedStringDictionary<TemplateValue>
        init(_ attributes: OrderedStringDictionary<TemplateValue>) { self.attributes = attributes }
    }

    /// A JSON value as a template value.
    init(_ json: JSONValue) {
        switch json {
        case .null: self = .none
        case .bool(let flag): self = .bool(flag)
        case .int(let integer): self = .int(integer)
        case .double(let number): self = .double(number)
        case .string(let text): self = .string(text)
        case .array(let elements): self = .list(elements.map(TemplateValue.init))
        case .object(let object): self = .dictionary(object.mapValues(TemplateValue.init))
        }
    }

    /// Python's truth value.
    var isTruthy: Bool {
        switch self {
        case .undefined, .none: false
        case .bool(let flag): flag
        case .int(let integer): integer != 0
        case .double(let number): number != 0
        case .string(let text): !text.isEmpty
        case .list(let elements), .tuple(let elements): !elements.isEmpty
        case .dictionary(let dictionary): dictionary.count > 0
        case .namespace, .function: true
        }
    }

    var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }

    /// Python's type name, for error messages.
    var typeName: String {
        switch self {
        case .undefined: "Undefined"
        case .none: "NoneType"
        case .bool: "bool"
        case .int: "int"
        case .double: "float"
        case .string: "str"
        case .list: "list"
        case .tuple: "tuple"
        case .dictionary: "dict"
        case .namespace: "Namespace"
        case .function: "function"
        }
    }

    /// The value as JSON, for `tojson`; `nil` for values JSON cannot hold.
    var json: JSONValue? {
        switch self {
        case .none: .null
        case .bool(let flag): .bool(flag)
        case .int(let integer): .int(integer)
        case .double(let number): .double(number)
        case .string(let text): .string(text)
        case .list(let elements), .tuple(let elements):
            elements.reduce(into: Optional([JSONValue]())) { result, element in
                guard let json = element.json else { result = nil; return }
                result?.append(json)
            }.map { .array($0) }
        case .dictionary(let dictionary):
            dictionary.entries.reduce(into: Optional(JSONObject())) { result, entry in
                guard let json = entry.value.json else { result = nil; return }
                result?[entry.key] = json
            }.map { .object($0) }
        case .undefined, .namespace, .function: nil
        }
    }
}

/// A callable value: a built-in global, a bound method, or a macro.
struct TemplateFunction {
    let name: String
    /// The value a bound method belongs to and holds on to (`text.split` holds `text`); nil for
    /// globals and macros, which hold no values.
    var receiver: TemplateValue? = nil
    /// Runs the function on its arguments, called at `position`, counting its work in `budget`.
    let call: (_ positional: [TemplateValue], _ keywords: OrderedStringDictionary<TemplateValue>, _ position: SourcePosition,
               _ budget: TemplateBudget) throws(TemplateError) -> TemplateValue
}

extension TemplateValue: Equatable {
    /// Python's `==`: numbers compare by value across int, float and bool; strings by exact scalars.
    static func == (left: TemplateValue, right: TemplateValue) -> Bool {
        switch (left, right) {
        case (.undefined, .undefined), (.none, .none): true
        case (.string(let a), .string(let b)): ExactString(a) == ExactString(b)
        case (.list(let a), .list(let b)), (.tuple(let a), .tuple(let b)): a == b
        case (.dictionary(let a), .dictionary(let b)): a == b
        case (.namespace(let a), .namespace(let b)): a === b
        default:
            if let a = left.number, let b = right.number { a == b } else { false }
        }
    }

    /// The elements of a list or tuple.
    var elements: [TemplateValue]? {
        switch self {
        case .list(let elements), .tuple(let elements): elements
        default: nil
        }
    }

    /// The numeric value of ints, floats and bools.
    var number: Double? {
        switch self {
        case .bool(let flag): flag ? 1 : 0
        case .int(let integer): Double(integer)
        case .double(let number): number
        default: nil
        }
    }
}
