/// Writes values as Python's `str` and `repr` do, within ``TemplateLimit/textLength``, counting what
/// it visits against the render's budget. Nested values are written recursively, so the recursive
/// functions leave the formatting of single values to others (a debug build's frames are large).
struct TemplatePrinter {
    private let budget: TemplateBudget
    private let position: SourcePosition
    private var output = ""
    private var visited = 0

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
        case .list(let elements): try write(elements, between: "[", and: "]")
        case .tuple(let elements): try write(elements, between: "(", and: elements.count == 1 ? ",)" : ")")
        case .dictionary(let dictionary): try write(dictionary)
        case .namespace(let namespace):
            try append("<Namespace ")
            try write(namespace.attributes)
            try append(">")
        default: try append(Self.scalar(value))
        }
    }

    /// The `repr` of a value that holds no others.
    private static func scalar(_ value: TemplateValue) -> String {
        switch value {
        case .none: "None"
        case .bool(let flag): flag ? "True" : "False"
        case .int(let integer): String(integer)
        case .double(let number):
            JSONWriter.pythonFloat(number).replacingOccurrences(of: "Infinity", with: "inf").replacingOccurrences(of: "NaN", with: "nan")
        case .string(let text): quoted(text)
        case .function(let function): "<function \(function.name)>"
        case .undefined, .list, .tuple, .dictionary, .namespace: ""
        }
    }

    private mutating func write(_ elements: [TemplateValue], between opening: String, and closing: String) throws(TemplateError) {
        try append(opening)
        for (index, element) in elements.enumerated() {
            if index > 0 { try append(", ") }
            try write(element)
        }
        try append(closing)
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
    static func quoted(_ text: String) -> String {
        // Most strings need no escapes: then the repr is the text in single quotes, without a pass per character.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "'") || $0 == UInt8(ascii: "\\") }) {
            return "'" + text + "'"
        }
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
