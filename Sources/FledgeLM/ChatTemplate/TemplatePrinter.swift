/// Writes values as Python's `str` and `repr` do, within ``TemplateLimit/textLength``, counting what
/// it visits against the render's budget. A namespace that holds itself prints as Python prints a
/// dictionary that holds itself: `<Namespace {'me': <Namespace {...}>}>`.
struct TemplatePrinter {
    private let budget: TemplateBudget
    private let position: SourcePosition
    private var output = ""
    private var visited = 0
    /// The namespaces being written, outermost first.
    private var openNamespaces: [ObjectIdentifier] = []

    /// What `{{ value }}` prints: Python's `str`, with undefined printing nothing.
    static func printed(_ value: TemplateValue, budget: TemplateBudget, at position: SourcePosition) throws(TemplateError) -> String {
        switch value {
        case .undefined: ""
        case .string(let text): text
        default: try representation(value, budget: budget, at: position)
        }
    }

    /// Python's `repr`.
    static func representation(_ value: TemplateValue, budget: TemplateBudget, at position: SourcePosition) throws(TemplateError) -> String {
        var printer = TemplatePrinter(budget: budget, position: position)
        try printer.write(value)
        try budget.charge(printer.visited, at: position)
        try budget.charge(bytes: printer.output.utf8.count, at: position)
        return printer.output
    }

    private init(budget: TemplateBudget, position: SourcePosition) {
        self.budget = budget
        self.position = position
    }

    private mutating func append(_ text: String) throws(TemplateError) {
        let length = output.utf8.count + text.utf8.count
        try TemplateLimit.textLength.check(length, at: position,
            "printing this value gives more than \(TemplateLimit.textLength.value) bytes of text; print less of it")
        output += text
    }

    private mutating func write(_ value: TemplateValue) throws(TemplateError) {
        visited += 1
        switch value {
        case .undefined: break
        case .none: try append("None")
        case .bool(let flag): try append(flag ? "True" : "False")
        case .int(let integer): try append(String(integer))
        case .double(let number):
            try append(JSONWriter.pythonFloat(number).replacingOccurrences(of: "Infinity", with: "inf").replacingOccurrences(of: "NaN", with: "nan"))
        case .string(let text): try append(Self.quoted(text))
        case .list(let elements):
            try append("[")
            try write(elements)
            try append("]")
        case .tuple(let elements):
            try append("(")
            try write(elements)
            try append(elements.count == 1 ? ",)" : ")")
        case .dictionary(let dictionary): try write(dictionary)
        case .namespace(let namespace):
            try append("<Namespace ")
            let identity = ObjectIdentifier(namespace)
            if openNamespaces.contains(identity) {
                try append("{...}")
            } else {
                openNamespaces.append(identity)
                try write(namespace.attributes)
                openNamespaces.removeLast()
            }
            try append(">")
        case .function(let function): try append("<function \(function.name)>")
        }
    }

    private mutating func write(_ elements: [TemplateValue]) throws(TemplateError) {
        for (index, element) in elements.enumerated() {
            if index > 0 { try append(", ") }
            try write(element)
        }
    }

    private mutating func write(_ dictionary: OrderedStringDictionary<TemplateValue>) throws(TemplateError) {
        try append("{")
        for (index, entry) in dictionary.entries.enumerated() {
            if index > 0 { try append(", ") }
            try append(Self.quoted(entry.key) + ": ")
            try write(entry.value)
        }
        try append("}")
    }

    /// Python's `repr` of a string.
    private static func quoted(_ text: String) -> String {
        let quote: Unicode.Scalar = text.unicodeScalars.contains("'") && !text.unicodeScalars.contains("\"") ? "\"" : "'"
        var result = String.UnicodeScalarView([quote])
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": result.append(contentsOf: "\\\\".unicodeScalars)
            case "\n": result.append(contentsOf: "\\n".unicodeScalars)
            case "\r": result.append(contentsOf: "\\r".unicodeScalars)
            case "\t": result.append(contentsOf: "\\t".unicodeScalars)
            case quote: result.append("\\"); result.append(quote)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    result.append(contentsOf: ("\\x" + (hex.count < 2 ? "0" : "") + hex).unicodeScalars)
                } else {
                    result.append(scalar)
                }
            }
        }
        result.append(quote)
        return String(result)
    }
}
