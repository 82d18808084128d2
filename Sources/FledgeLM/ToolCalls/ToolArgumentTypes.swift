import FledgeJSON

/// Types a parsed tool call's text arguments by the calling tool's JSON schema, as transformers' `ResponseParser`
/// does when given `tools` (`_coerce_tool_calls`, `_coerce`): for a JSON reply only a string argument whose
/// parameter does not allow strings is converted — `"7"` to 7 for an `integer`, `"true"` to true for a `boolean`,
/// `"[1]"` to a list for an `array` — and an argument that does not convert stays the text it was.
///
/// Departures, at the edges of Python's number syntax: integers are ASCII digits (with `_` between digits) that fit
/// in 64 bits, and numbers are what Swift's `Double` reads less hexadecimal and `_`; other text stays text.
struct ToolArgumentTypes {
    /// The schema `properties` of each tool by name.
    private let properties: [String: JSONObject]

    init(tools: [JSONValue]) {
        var properties: [String: JSONObject] = [:]
        for tool in tools {
            guard case .object(let object) = tool else { continue }
            let function = object["function"] ?? tool
            guard case .string(let name)? = function["name"] else { continue }
            if case .object(let parameters)? = function["parameters"], case .object(let fields)? = parameters["properties"] {
                properties[name] = fields
            } else {
                properties[name] = JSONObject()
            }
        }
        self.properties = properties
    }

    /// `value` (a parsed field) with the arguments of each tool call in it typed.
    func typed(_ value: JSONValue) -> JSONValue {
        guard !properties.isEmpty else { return value }
        if case .array(let items) = value { return .array(items.map(typed)) }
        guard case .object(var call) = value, case .object(var function)? = call["function"],
              case .string(let name)? = function["name"], case .object(var arguments)? = function["arguments"],
              let fields = properties[name], fields.count > 0 else { return value }
        for (key, argument) in arguments.entries {
            guard let schema = fields[key] else { continue }
            let types = Self.types(schema)
            if types.isEmpty || types.contains("string") { continue }
            switch argument {
            case .string(let raw): arguments[key] = Self.coerce(raw, types)
            case .array(let items) where !types.contains("array"):
                arguments[key] = .array(items.map { item in item.stringValue.map { Self.coerce($0, types) } ?? item })
            default: break
            }
        }
        function["arguments"] = .object(arguments)
        call["function"] = .object(function)
        return .object(call)
    }

    /// The types a parameter schema allows (`type`, a list of them, `anyOf`/`oneOf`, `nullable`).
    private static func types(_ schema: JSONValue) -> [String] {
        guard case .object(let object) = schema else { return [] }
        var types: [String] = []
        switch object["type"] {
        case .string(let name)?: types.append(name)
        case .array(let names)?: types += names.compactMap(\.stringValue)
        default: break
        }
        for union in ["anyOf", "oneOf"] {
            if case .array(let choices)? = object[union] { types += choices.flatMap(Self.types) }
        }
        if object["nullable"] == .bool(true) && !types.contains("null") { types.append("null") }
        return types
    }

    /// `raw` as the first of `types` it converts to, else the text itself.
    private static func coerce(_ raw: String, _ types: [String]) -> JSONValue {
        let trimmed = PythonString.strip(raw, characters: nil)
        for type in types {
            switch type {
            case "integer":
                if let number = integer(trimmed) { return .int(number) }
                if let number = number(trimmed), number == number.rounded(), let whole = Int(exactly: number) { return .int(whole) }
            case "number":
                guard let number = number(trimmed), number.isFinite else { continue }
                if number == number.rounded() && !raw.contains("."), let whole = Int(exactly: number) { return .int(whole) }
                return .double(number)
            case "boolean":
                switch trimmed.lowercased() {
                case "true", "1": return .bool(true)
                case "false", "0": return .bool(false)
                default: continue
                }
            case "null":
                if trimmed == "null" || trimmed == "None" { return .null }
            case "object", "array":
                switch (type, try? JSONParser.parseAsPython(raw)) {
                case ("object", .object(let object)?): return .object(object)
                case ("array", .array(let items)?): return .array(items)
                default: continue
                }
            default: continue
            }
        }
        return .string(raw)
    }

    /// Python's `int(text)` for ASCII digits: a sign, digits, single `_` between digits.
    private static func integer(_ text: String) -> Int? {
        var digits = Substring(text)
        var negative = false
        if let sign = digits.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            digits = digits.dropFirst()
        }
        guard let first = digits.first, first.isASCII, first.isNumber, let last = digits.last, last.isASCII, last.isNumber,
              !digits.contains("__"), digits.allSatisfy({ $0 == "_" || ($0.isASCII && $0.isNumber) }) else { return nil }
        return Int((negative ? "-" : "") + digits.filter { $0 != "_" })
    }

    /// Python's `float(text)`, less hexadecimal and `_` (which Python rejects and allows, respectively).
    private static func number(_ text: String) -> Double? {
        guard !text.contains(where: { $0 == "x" || $0 == "X" || $0 == "_" }) else { return nil }
        return Double(text)
    }
}
