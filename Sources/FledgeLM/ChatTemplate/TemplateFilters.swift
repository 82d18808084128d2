/// Jinja's built-in filters that chat templates use, plus transformers' own `tojson`.
enum TemplateFilters {
    static let names: Set<String> = [
        "abs", "capitalize", "count", "d", "default", "dictsort", "first", "float", "int", "items", "join", "last", "length",
        "list", "lower", "map", "max", "min", "reject", "rejectattr", "replace", "reverse", "safe", "select", "selectattr",
        "sort", "string", "sum", "title", "tojson", "trim", "unique", "upper",
    ]

    typealias Keywords = OrderedStringDictionary<TemplateValue>

    static func apply(_ name: String, to value: TemplateValue, _ arguments: [TemplateValue], _ keywords: Keywords,
                      at position: SourcePosition, renderer: TemplateRenderer) throws(TemplateError) -> TemplateValue {
        func argument(_ index: Int, _ keyword: String) -> TemplateValue? {
            index < arguments.count ? arguments[index] : keywords[keyword]
        }
        func elements() throws(TemplateError) -> [TemplateValue] { try TemplateOperations.iterate(value, at: position) }
        switch name {
        case "trim":
            let characters: String? = if case .string(let text)? = argument(0, "chars") { text } else { nil }
            return .string(PythonString.strip(value.printed, characters: characters))
        case "tojson":
            return .string(try toJSON(value, argument, at: position))
        case "length", "count":
            switch value {
            case .string(let text): return .int(text.unicodeScalars.count)
            case .list(let items), .tuple(let items): return .int(items.count)
            case .dictionary(let dictionary): return .int(dictionary.count)
            case .undefined: return .int(0)
            default: throw .runtime("object of type '\(value.typeName)' has no len()", at: position)
            }
        case "lower": return .string(value.printed.lowercased())
        case "upper": return .string(value.printed.uppercased())
        case "capitalize": return .string(PythonString.capitalize(value.printed))
        case "title": return .string(PythonString.title(value.printed))
        case "string": return .string(value.printed)
        case "safe": return value
        case "join":
            let separator = argument(0, "d")?.printed ?? ""
            var items = try elements()
            if let attribute = argument(1, "attribute") { items = try items.map { (item) throws(TemplateError) in try TemplateOperations.item(item, attribute, at: position) } }
            return .string(items.map(\.printed).joined(separator: separator))
        case "default", "d":
            let fallback = argument(0, "default_value") ?? .string("")
            let boolean = argument(1, "boolean")?.isTruthy ?? false
            return value.isUndefined || (boolean && !value.isTruthy) ? fallback : value
        case "first", "last":
            let items = try elements()
            return (name == "first" ? items.first : items.last) ?? .undefined(name)
        case "list": return .list(try elements())
        case "reverse":
            if case .string(let text) = value { return .string(String(String.UnicodeScalarView(text.unicodeScalars.reversed()))) }
            return .list(try elements().reversed())
        case "items":
            if value.isUndefined { return .list([]) }
            guard case .dictionary(let dictionary) = value else { throw .runtime("items filter needs a mapping, got \(value.typeName)", at: position) }
            return .list(dictionary.entries.map { .tuple([.string($0.key), $0.value]) })
        case "dictsort":
            guard case .dictionary(let dictionary) = value else { throw .runtime("dictsort needs a mapping, got \(value.typeName)", at: position) }
            let byValue = argument(1, "by")?.printed == "value"
            let entries = try sorted(dictionary.entries.map { TemplateValue.tuple([.string($0.key), $0.value]) }, at: position) { pair in
                pair.elements?[byValue ? 1 : 0] ?? pair
            }
            return .list(argument(2, "reverse")?.isTruthy == true ? entries.reversed() : entries)
        case "sort":
            let attribute = argument(2, "attribute")
            let items = try sorted(try elements(), at: position) { item in
                guard let attribute else { return item }
                return (try? TemplateOperations.item(item, attribute, at: position)) ?? .undefined("attribute")
            }
            return .list(argument(0, "reverse")?.isTruthy == true ? items.reversed() : items)
        case "unique":
            var seen: [TemplateValue] = []
            for item in try elements() where !seen.contains(item) { seen.append(item) }
            return .list(seen)
        case "min", "max":
            let items = try sorted(try elements(), at: position) { $0 }
            return (name == "min" ? items.first : items.last) ?? .undefined(name)
        case "sum":
            var total = argument(1, "start") ?? .int(0)
            for item in try elements() { total = try TemplateOperations.binary("+", total, item, at: position) }
            return total
        case "abs":
            switch value {
            case .int(let integer): return .int(Swift.abs(integer))
            case .double(let number): return .double(Swift.abs(number))
            default: throw .runtime("bad operand type for abs(): '\(value.typeName)'", at: position)
            }
        case "int":
            switch value {
            case .int, .bool: return .int(value.integer!)
            case .double(let number): return .int(Int(number))
            case .string(let text): return .int(Int(PythonString.strip(text, characters: nil)) ?? Int(Double(text) ?? 0))
            default: return argument(0, "default") ?? .int(0)
            }
        case "float":
            if let number = value.number { return .double(number) }
            if case .string(let text) = value, let number = Double(PythonString.strip(text, characters: nil)) { return .double(number) }
            return argument(0, "default") ?? .double(0)
        case "replace":
            guard case .string(let old)? = argument(0, "old"), case .string(let new)? = argument(1, "new") else {
                throw .runtime("replace filter needs two strings", at: position)
            }
            return .string(PythonString.replace(value.printed, old, new, count: argument(2, "count")?.integer ?? -1))
        case "map":
            return .list(try map(try elements(), arguments, keywords, at: position, renderer: renderer))
        case "select", "reject", "selectattr", "rejectattr":
            let byAttribute = name.hasSuffix("attr")
            let testArguments = byAttribute ? Array(arguments.dropFirst()) : arguments
            var kept: [TemplateValue] = []
            for item in try elements() {
                let subject = byAttribute ? try TemplateOperations.item(item, arguments.first ?? .none, at: position) : item
                var passes = subject.isTruthy
                if case .string(let test)? = testArguments.first {
                    guard TemplateTests.names.contains(test) else { throw .unsupported("the '\(test)' test", at: position) }
                    passes = try TemplateTests.apply(test, to: subject, Array(testArguments.dropFirst()), at: position, renderer: renderer)
                }
                if passes == name.hasPrefix("select") { kept.append(item) }
            }
            return .list(kept)
        default:
            throw .unsupported("the '\(name)' filter", at: position)
        }
    }

    /// transformers' `tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)`.
    private static func toJSON(_ value: TemplateValue, _ argument: (Int, String) -> TemplateValue?, at position: SourcePosition) throws(TemplateError) -> String {
        guard let json = value.json else { throw .runtime("Object of type \(value.typeName) is not JSON serializable", at: position) }
        var writer = JSONWriter()
        writer.ensureASCII = argument(0, "ensure_ascii")?.isTruthy ?? false
        writer.indent = argument(1, "indent")?.integer
        if let parts = argument(2, "separators")?.elements, parts.count == 2 {
            writer.separators = (parts[0].printed, parts[1].printed)
        }
        writer.sortKeys = argument(3, "sort_keys")?.isTruthy ?? false
        return writer.string(json)
    }

    private static func map(_ items: [TemplateValue], _ arguments: [TemplateValue], _ keywords: Keywords,
                            at position: SourcePosition, renderer: TemplateRenderer) throws(TemplateError) -> [TemplateValue] {
        var result: [TemplateValue] = []
        if let attribute = keywords["attribute"] {
            for item in items {
                var value = try TemplateOperations.item(item, attribute, at: position)
                if value.isUndefined, let fallback = keywords["default"] { value = fallback }
                result.append(value)
            }
            return result
        }
        guard case .string(let filter)? = arguments.first else { throw .runtime("map needs a filter name or attribute=", at: position) }
        guard names.contains(filter) else { throw .unsupported("the '\(filter)' filter", at: position) }
        for item in items {
            result.append(try apply(filter, to: item, Array(arguments.dropFirst()), Keywords(), at: position, renderer: renderer))
        }
        return result
    }

    private static func sorted(_ items: [TemplateValue], at position: SourcePosition,
                               key: (TemplateValue) throws(TemplateError) -> TemplateValue) throws(TemplateError) -> [TemplateValue] {
        var keyed: [(key: TemplateValue, item: TemplateValue)] = []
        for item in items {
            var sortKey = try key(item)
            if case .string(let text) = sortKey { sortKey = .string(text.lowercased()) }
            keyed.append((sortKey, item))
        }
        var failure: TemplateError? = nil
        let result = keyed.enumerated().sorted { left, right in
            do throws(TemplateError) {
                if case .bool(true) = try TemplateOperations.binary("<", left.element.key, right.element.key, at: position) { return true }
                if case .bool(true) = try TemplateOperations.binary("<", right.element.key, left.element.key, at: position) { return false }
            } catch {
                failure = error
            }
            return left.offset < right.offset
        }
        if let failure { throw failure }
        return result.map { $0.element.item }
    }
}
