/// Jinja's built-in filters that chat templates use, plus transformers' own `tojson`; each counts
/// the items and text it visits in the render's budget.
enum TemplateFilters {
    static let names: Set<String> = [
        "abs", "capitalize", "count", "d", "default", "dictsort", "first", "float", "int", "items", "join", "last", "length",
        "list", "lower", "map", "max", "min", "reject", "rejectattr", "replace", "reverse", "safe", "select", "selectattr",
        "sort", "string", "sum", "title", "tojson", "trim", "unique", "upper",
    ]

    typealias Keywords = OrderedStringDictionary<TemplateValue>

    static func apply(_ name: String, to value: TemplateValue, _ arguments: [TemplateValue], _ keywords: Keywords,
                      at position: SourcePosition, budget: TemplateBudget) throws(TemplateError) -> TemplateValue {
        func argument(_ index: Int, _ keyword: String) -> TemplateValue? {
            index < arguments.count ? arguments[index] : keywords[keyword]
        }
        func elements() throws(TemplateError) -> [TemplateValue] { try TemplateOperations.iterate(value, at: position, budget: budget) }
        /// `value` as `{{ value }}` prints it, counting the text it reads.
        func text(_ value: TemplateValue) throws(TemplateError) -> String {
            let text = try TemplatePrinter.printed(value, budget: budget, at: position)
            try budget.charge(bytes: text.utf8.count, at: position)
            return text
        }
        switch name {
        case "trim":
            let characters: String? = if case .string(let text)? = argument(0, "chars") { text } else { nil }
            return .string(PythonString.strip(try text(value), characters: characters))
        case "tojson":
            return .string(try TemplateJSON.string(value, argument, at: position, budget: budget))
        case "length", "count":
            switch value {
            case .string(let text):
                try budget.charge(bytes: text.utf8.count, at: position)
                return .int(text.unicodeScalars.count)
            case .list(let items), .tuple(let items): return .int(items.count)
            case .dictionary(let dictionary): return .int(dictionary.count)
            case .undefined: return .int(0)
            default: throw .runtime("object of type '\(value.typeName)' has no len()", at: position)
            }
        case "lower": return .string(try text(value).lowercased())
        case "upper": return .string(try text(value).uppercased())
        case "capitalize": return .string(PythonString.capitalize(try text(value)))
        case "title": return .string(PythonString.title(try text(value)))
        case "string": return .string(try text(value))
        case "safe": return value
        case "join":
            let separator = try argument(0, "d").map(text) ?? ""
            var items = try elements()
            if let attribute = argument(1, "attribute") {
                items = try items.map { (item) throws(TemplateError) in try TemplateOperations.item(item, attribute, at: position, budget: budget) }
            }
            return .string(try PythonString.joined(try items.map(text), separator: separator, at: position, budget: budget))
        case "default", "d":
            let fallback = argument(0, "default_value") ?? .string("")
            let boolean = argument(1, "boolean")?.isTruthy ?? false
            return value.isUndefined || (boolean && !value.isTruthy) ? fallback : value
        case "first", "last":
            let items = try elements()
            return (name == "first" ? items.first : items.last) ?? .undefined(name)
        case "list": return .list(try elements())
        case "reverse":
            if case .string(let text) = value {
                try budget.charge(bytes: text.utf8.count, at: position)
                return .string(String(String.UnicodeScalarView(text.unicodeScalars.reversed())))
            }
            let items = try elements()
            try budget.charge(items.count, at: position)
            return .list(items.reversed())
        case "items":
            if value.isUndefined { return .list([]) }
            guard case .dictionary(let dictionary) = value else { throw .runtime("items filter needs a mapping, got \(value.typeName)", at: position) }
            try budget.charge(dictionary.count, at: position)
            return .list(dictionary.entries.map { .tuple([.string($0.key), $0.value]) })
        case "dictsort":
            guard case .dictionary(let dictionary) = value else { throw .runtime("dictsort needs a mapping, got \(value.typeName)", at: position) }
            let byValue = try argument(1, "by").map(text) == "value"
            let entries = try sorted(dictionary.entries.map { TemplateValue.tuple([.string($0.key), $0.value]) }, at: position, budget: budget) { pair in
                pair.elements?[byValue ? 1 : 0] ?? pair
            }
            return .list(argument(2, "reverse")?.isTruthy == true ? entries.reversed() : entries)
        case "sort":
            let attribute = argument(2, "attribute")
            let items = try sorted(try elements(), at: position, budget: budget) { item in
                guard let attribute else { return item }
                return (try? TemplateOperations.item(item, attribute, at: position, budget: budget)) ?? .undefined("attribute")
            }
            return .list(argument(0, "reverse")?.isTruthy == true ? items.reversed() : items)
        case "unique":
            var seen: [TemplateValue] = []
            for item in try elements() where try !contains(seen, item, at: position, budget: budget) {
                seen.append(item)
            }
            return .list(seen)
        case "min", "max":
            let items = try sorted(try elements(), at: position, budget: budget) { $0 }
            return (name == "min" ? items.first : items.last) ?? .undefined(name)
        case "sum":
            var total = argument(1, "start") ?? .int(0)
            for item in try elements() { total = try TemplateOperations.binary("+", total, item, at: position, budget: budget) }
            return total
        case "abs":
            switch value {
            case .int(let integer):
                guard integer != .min else { throw TemplateOperations.integerOverflow("abs(\(integer))", at: position) }
                return .int(Swift.abs(integer))
            case .double(let number): return .double(Swift.abs(number))
            default: throw .runtime("bad operand type for abs(): '\(value.typeName)'", at: position)
            }
        case "int":
            return try integer(value, default: argument(0, "default") ?? .int(0), at: position, budget: budget)
        case "float":
            if let number = value.number { return .double(number) }
            if case .string(let string) = value {
                try budget.charge(bytes: string.utf8.count, at: position)
                if let number = Double(PythonString.strip(string, characters: nil)) { return .double(number) }
            }
            return argument(0, "default") ?? .double(0)
        case "replace":
            guard case .string(let old)? = argument(0, "old"), case .string(let new)? = argument(1, "new") else {
                throw .runtime("replace filter needs two strings", at: position)
            }
            return .string(try PythonString.replace(try text(value), old, new, count: argument(2, "count")?.integer ?? -1, at: position, budget: budget))
        case "map":
            return .list(try map(try elements(), arguments, keywords, at: position, budget: budget))
        case "select", "reject", "selectattr", "rejectattr":
            let byAttribute = name.hasSuffix("attr")
            let testArguments = byAttribute ? Array(arguments.dropFirst()) : arguments
            var kept: [TemplateValue] = []
            for item in try elements() {
                try budget.charge(1, at: position)
                let subject = byAttribute ? try TemplateOperations.item(item, arguments.first ?? .none, at: position, budget: budget) : item
                var passes = subject.isTruthy
                if case .string(let test)? = testArguments.first {
                    guard TemplateTests.names.contains(test) else { throw .unsupported("the '\(test)' test", at: position) }
                    passes = try TemplateTests.apply(test, to: subject, Array(testArguments.dropFirst()), at: position, budget: budget)
                }
                if passes == name.hasPrefix("select") { kept.append(item) }
            }
            return .list(kept)
        default:
            throw .unsupported("the '\(name)' filter", at: position)
        }
    }

    private static func contains(_ items: [TemplateValue], _ item: TemplateValue, at position: SourcePosition,
                                 budget: TemplateBudget) throws(TemplateError) -> Bool {
        for other in items {
            try budget.charge(1, at: position)
            if try TemplateOperations.equal(other, item, at: position, budget: budget) { return true }
        }
        return false
    }

    /// Jinja's `int` filter: `int(value)`, for strings `int(float(value))` where that fails, and
    /// `default` where both fail; a float too large for 64 bits is an error.
    private static func integer(_ value: TemplateValue, default fallback: TemplateValue, at position: SourcePosition,
                                budget: TemplateBudget) throws(TemplateError) -> TemplateValue {
        switch value {
        case .int, .bool: return .int(value.integer!)
        case .double(let number):
            return number.isNaN ? fallback : .int(try PythonString.integer(number, at: position))
        case .string(let text):
            try budget.charge(bytes: text.utf8.count, at: position)
            let stripped = PythonString.strip(text, characters: nil)
            if let integer = Int(stripped) { return .int(integer) }
            guard let number = Double(stripped), !number.isNaN else { return fallback }
            return .int(try PythonString.integer(number, at: position))
        default: return fallback
        }
    }

    private static func map(_ items: [TemplateValue], _ arguments: [TemplateValue], _ keywords: Keywords,
                            at position: SourcePosition, budget: TemplateBudget) throws(TemplateError) -> [TemplateValue] {
        var result: [TemplateValue] = []
        if let attribute = keywords["attribute"] {
            for item in items {
                try budget.charge(1, at: position)
                var value = try TemplateOperations.item(item, attribute, at: position, budget: budget)
                if value.isUndefined, let fallback = keywords["default"] { value = fallback }
                result.append(value)
            }
            return result
        }
        guard case .string(let filter)? = arguments.first else { throw .runtime("map needs a filter name or attribute=", at: position) }
        guard names.contains(filter) else { throw .unsupported("the '\(filter)' filter", at: position) }
        for item in items {
            try budget.charge(1, at: position)
            result.append(try apply(filter, to: item, Array(arguments.dropFirst()), Keywords(), at: position, budget: budget))
        }
        return result
    }

    /// `items` sorted by `key` (strings case-insensitively), stably; counts about n·log₂(n) comparisons.
    private static func sorted(_ items: [TemplateValue], at position: SourcePosition, budget: TemplateBudget,
                               key: (TemplateValue) throws(TemplateError) -> TemplateValue) throws(TemplateError) -> [TemplateValue] {
        try budget.charge(items.count * (Int.bitWidth - items.count.leadingZeroBitCount), at: position)
        var keyed: [(key: TemplateValue, item: TemplateValue)] = []
        for item in items {
            var sortKey = try key(item)
            if case .string(let text) = sortKey {
                try budget.charge(bytes: text.utf8.count, at: position)
                sortKey = .string(text.lowercased())
            }
            keyed.append((sortKey, item))
        }
        var failure: TemplateError? = nil
        let result = keyed.enumerated().sorted { left, right in
            do throws(TemplateError) {
                if case .bool(true) = try TemplateOperations.binary("<", left.element.key, right.element.key, at: position, budget: budget) { return true }
                if case .bool(true) = try TemplateOperations.binary("<", right.element.key, left.element.key, at: position, budget: budget) { return false }
            } catch {
                failure = error
            }
            return left.offset < right.offset
        }
        if let failure { throw failure }
        return result.map { $0.element.item }
    }
}
