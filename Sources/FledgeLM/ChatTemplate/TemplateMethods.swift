/// Python methods of strings, dictionaries and lists that templates call, as bound functions.
enum TemplateMethods {
    private static let pythonStringMethods: Set<String> = [
        "capitalize", "casefold", "center", "count", "encode", "endswith", "expandtabs", "find", "format", "format_map",
        "index", "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier", "islower", "isnumeric",
        "isprintable", "isspace", "istitle", "isupper", "join", "ljust", "lower", "lstrip", "maketrans", "partition",
        "removeprefix", "removesuffix", "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip", "split",
        "splitlines", "startswith", "strip", "swapcase", "title", "translate", "upper", "zfill",
    ]
    private static let pythonDictionaryMethods: Set<String> = ["clear", "copy", "fromkeys", "get", "items", "keys", "pop", "popitem", "setdefault", "update", "values"]
    private static let pythonListMethods: Set<String> = ["append", "clear", "copy", "count", "extend", "index", "insert", "pop", "remove", "reverse", "sort"]

    /// A method's body: it takes the positional and keyword arguments, and counts its work in the budget.
    private typealias Implementation = ([TemplateValue], OrderedStringDictionary<TemplateValue>, TemplateBudget) throws(TemplateError) -> TemplateValue

    /// The bound method `name` of `value`, `nil` when Python has no such attribute.
    static func method(_ name: String, of value: TemplateValue, at position: SourcePosition) throws(TemplateError) -> TemplateValue? {
        let implementation: Implementation?
        switch value {
        case .string(let text):
            guard pythonStringMethods.contains(name) else { return nil }
            implementation = stringMethod(name, text, at: position)
        case .dictionary(let dictionary):
            guard pythonDictionaryMethods.contains(name) else { return nil }
            implementation = dictionaryMethod(name, dictionary, at: position)
        case .list, .tuple:
            guard pythonListMethods.contains(name) else { return nil }
            implementation = nil
        default:
            return nil
        }
        guard let implementation else { throw .unsupported("the \(value.typeName) method '\(name)'", at: position) }
        return .function(TemplateFunction(name: name, receiver: value) { positional, keywords, _, budget throws(TemplateError) in
            try implementation(positional, keywords, budget)
        })
    }

    private static func dictionaryMethod(_ name: String, _ dictionary: OrderedStringDictionary<TemplateValue>, at position: SourcePosition) -> Implementation? {
        switch name {
        case "items":
            { _, _, budget throws(TemplateError) in
                try budget.charge(dictionary.count, at: position)
                return .list(dictionary.entries.map { .tuple([.string($0.key), $0.value]) })
            }
        case "keys":
            { _, _, budget throws(TemplateError) in
                try budget.charge(dictionary.count, at: position)
                return .list(dictionary.keys.map { .string($0) })
            }
        case "values": { _, _, _ in .list(dictionary.orderedValues) }
        case "get": { arguments, _, _ in
            guard case .string(let key)? = arguments.first else { return arguments.count > 1 ? arguments[1] : .none }
            return dictionary[key] ?? (arguments.count > 1 ? arguments[1] : .none)
        }
        default: nil
        }
    }

    private static func stringMethod(_ name: String, _ text: String, at position: SourcePosition) -> Implementation? {
        func argument(_ arguments: [TemplateValue], _ index: Int, _ keywords: OrderedStringDictionary<TemplateValue>, _ keyword: String) -> TemplateValue? {
            let value = index < arguments.count ? arguments[index] : keywords[keyword]
            if let value, value == .none { return nil }
            return value
        }
        func string(_ value: TemplateValue?) throws(TemplateError) -> String? {
            guard let value else { return nil }
            guard case .string(let text) = value else { throw .runtime("expected a string argument, got \(value.typeName)", at: position) }
            return text
        }
        switch name {
        case "strip", "lstrip", "rstrip":
            return { arguments, keywords, budget throws(TemplateError) in
                try budget.charge(bytes: text.utf8.count, at: position)
                return .string(PythonString.strip(text, characters: try string(argument(arguments, 0, keywords, "chars")),
                                                  left: name != "rstrip", right: name != "lstrip"))
            }
        case "split", "rsplit":
            return { arguments, keywords, budget throws(TemplateError) in
                let separator = try string(argument(arguments, 0, keywords, "sep"))
                let limit = argument(arguments, 1, keywords, "maxsplit")?.integer ?? -1
                if separator == "" { throw .runtime("empty separator", at: position) }
                return .list(try PythonString.split(text, separator: separator, maxSplits: limit, fromRight: name == "rsplit",
                                                    at: position, budget: budget).map { .string($0) })
            }
        case "startswith", "endswith":
            return { arguments, _, budget throws(TemplateError) in
                let candidates = arguments.first?.elements ?? Array(arguments.prefix(1))
                for candidate in candidates {
                    guard let affix = try string(candidate) else { continue }
                    try budget.charge(bytes: affix.utf8.count, at: position)
                    if name == "startswith" ? text.utf8.starts(with: affix.utf8) : text.utf8.reversed().starts(with: affix.utf8.reversed()) {
                        return .bool(true)
                    }
                }
                return .bool(false)
            }
        case "replace":
            return { arguments, keywords, budget throws(TemplateError) in
                guard let old = try string(argument(arguments, 0, keywords, "old")), let new = try string(argument(arguments, 1, keywords, "new")) else {
                    throw .runtime("replace() needs two string arguments", at: position)
                }
                return .string(try PythonString.replace(text, old, new, count: argument(arguments, 2, keywords, "count")?.integer ?? -1,
                                                        at: position, budget: budget))
            }
        case "upper", "lower", "title", "capitalize":
            return { _, _, budget throws(TemplateError) in
                try budget.charge(bytes: text.utf8.count, at: position)
                switch name {
                case "upper": return .string(text.uppercased())
                case "lower": return .string(text.lowercased())
                case "title": return .string(PythonString.title(text))
                default: return .string(PythonString.capitalize(text))
                }
            }
        case "join":
            return { arguments, _, budget throws(TemplateError) in
                let elements = try TemplateOperations.iterate(arguments.first ?? .list([]), at: position, budget: budget)
                var parts: [String] = []
                for element in elements {
                    guard case .string(let part) = element else { throw .runtime("join() expects strings, found \(element.typeName)", at: position) }
                    parts.append(part)
                }
                return .string(try PythonString.joined(parts, separator: text, at: position, budget: budget))
            }
        case "find", "count":
            return { arguments, _, budget throws(TemplateError) in
                guard let needle = try string(arguments.first) else { throw .runtime("\(name)() needs a string argument", at: position) }
                let pieces = try PythonString.split(text, separator: needle, maxSplits: name == "find" ? 1 : -1, fromRight: false,
                                                    at: position, budget: budget)
                if name == "count" { return .int(pieces.count - 1) }
                return .int(pieces.count < 2 ? -1 : pieces[0].unicodeScalars.count)
            }
        case "isdigit", "isspace", "isalpha", "isupper", "islower":
            return { _, _, budget throws(TemplateError) in
                try budget.charge(bytes: text.utf8.count, at: position)
                return .bool(PythonString.classify(text, name))
            }
        default:
            return nil
        }
    }
}
