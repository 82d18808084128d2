/// Jinja's built-in tests (`x is defined`, `x is string`, ...).
enum TemplateTests {
    static let names: Set<String> = [
        "boolean", "callable", "defined", "divisibleby", "eq", "equalto", "even", "false", "float", "ge", "gt", "in",
        "integer", "iterable", "le", "lower", "lt", "mapping", "ne", "none", "number", "odd", "sameas", "sequence",
        "string", "true", "undefined", "upper", "==", "!=", "<", ">", "<=", ">=",
    ]

    static func apply(_ name: String, to value: TemplateValue, _ arguments: [TemplateValue], at position: SourcePosition,
                      budget: TemplateBudget) throws(TemplateError) -> Bool {
        func other() throws(TemplateError) -> TemplateValue {
            guard let first = arguments.first else { throw .runtime("the '\(name)' test needs an argument", at: position) }
            return first
        }
        func compare(_ op: String) throws(TemplateError) -> Bool {
            try TemplateOperations.binary(op, value, try other(), at: position, budget: budget).isTruthy
        }
        func text() throws(TemplateError) -> String {
            let text = try TemplatePrinter.printed(value, budget: budget, at: position)
            try budget.charge(bytes: text.utf8.count, at: position)
            return text
        }
        switch name {
        case "defined": return !value.isUndefined
        case "undefined": return value.isUndefined
        case "none": return value == .none
        case "boolean": if case .bool = value { return true } else { return false }
        case "true": if case .bool(true) = value { return true } else { return false }
        case "false": if case .bool(false) = value { return true } else { return false }
        case "string": if case .string = value { return true } else { return false }
        case "integer": if case .int = value { return true } else { return false }
        case "float": if case .double = value { return true } else { return false }
        case "number": return value.number != nil
        case "mapping": if case .dictionary = value { return true } else { return false }
        case "iterable", "sequence":
            switch value {
            case .string, .list, .tuple, .dictionary, .undefined: return true
            default: return false
            }
        case "callable": if case .function = value { return true } else { return false }
        case "lower": return PythonString.classify(try text(), "islower")
        case "upper": return PythonString.classify(try text(), "isupper")
        case "odd", "even", "divisibleby":
            guard let integer = value.integer else { throw .runtime("the '\(name)' test needs an integer", at: position) }
            if name == "divisibleby" {
                guard let divisor = try other().integer, divisor != 0 else { throw .runtime("divisibleby needs a non-zero integer", at: position) }
                return integer.remainderReportingOverflow(dividingBy: divisor).partialValue == 0
            }
            return (integer % 2 != 0) == (name == "odd")
        case "eq", "equalto", "==": return try compare("==")
        case "ne", "!=": return try compare("!=")
        case "lt", "<": return try compare("<")
        case "gt", ">": return try compare(">")
        case "le", "<=": return try compare("<=")
        case "ge", ">=": return try compare(">=")
        case "in": return try TemplateOperations.contains(try other(), value, at: position, budget: budget)
        case "sameas":
            let target = try other()
            switch (value, target) {
            case (.none, .none): return true
            case (.bool(let a), .bool(let b)): return a == b
            case (.namespace(let a), .namespace(let b)): return a === b
            default: return false
            }
        default:
            throw .unsupported("the '\(name)' test", at: position)
        }
    }
}
