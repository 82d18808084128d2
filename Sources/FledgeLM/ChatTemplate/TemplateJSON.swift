/// transformers' `tojson` filter: `json.dumps(x, ensure_ascii=False, indent=None, separators=None,
/// sort_keys=False)`, measured against ``TemplateLimit/textLength`` before it is written.
enum TemplateJSON {
    static func string(_ value: TemplateValue, _ argument: (Int, String) -> TemplateValue?, at position: SourcePosition,
                       budget: TemplateBudget) throws(TemplateError) -> String {
        var writer = JSONWriter()
        writer.ensureASCII = argument(0, "ensure_ascii")?.isTruthy ?? false
        if let indent = argument(1, "indent")?.integer {
            try TemplateLimit.textLength.check(indent, at: position, "tojson's indent of \(indent) spaces is too wide")
            // Python indents with `' ' * indent`, so a negative indent is no indent.
            writer.indent = max(indent, 0)
        }
        if let parts = argument(2, "separators")?.elements, parts.count == 2 {
            writer.separators = (try TemplatePrinter.printed(parts[0], budget: budget, at: position),
                                 try TemplatePrinter.printed(parts[1], budget: budget, at: position))
        }
        writer.sortKeys = argument(3, "sort_keys")?.isTruthy ?? false
        // Measure first: a list that holds one long string many times would take far more memory as
        // JSON than as a value. Escapes are not counted, so the text may come out a few times longer.
        var measure = Measure(writer: writer, position: position)
        try measure.add(value, level: 0)
        try budget.charge(measure.visited, at: position)
        guard let json = value.json else { throw .runtime("Object of type \(value.typeName) is not JSON serializable", at: position) }
        let text = writer.string(json)
        try TemplateLimit.textLength.check(text.utf8.count, at: position, tooLong)
        try budget.charge(bytes: text.utf8.count, at: position)
        return text
    }

    private static let tooLong = "this value as JSON is more than \(TemplateLimit.textLength.value) bytes long; serialize less of it"

    /// The length of a value's JSON text without string escapes, found by a walk that stops past the limit.
    private struct Measure {
        let writer: JSONWriter
        let position: SourcePosition
        private(set) var length = 0
        private(set) var visited = 0

        init(writer: JSONWriter, position: SourcePosition) {
            self.writer = writer
            self.position = position
        }

        private mutating func add(_ bytes: Int) throws(TemplateError) {
            length += bytes
            try TemplateLimit.textLength.check(length, at: position, tooLong)
        }

        /// Adds `value`'s length; nested values are measured recursively, so this leaves single values to ``scalarLength(_:)``.
        mutating func add(_ value: TemplateValue, level: Int) throws(TemplateError) {
            visited += 1
            switch value {
            case .list(let elements), .tuple(let elements):
                try add(2)
                for element in elements {
                    try separate(level: level + 1)
                    try add(element, level: level + 1)
                }
            case .dictionary(let dictionary):
                try add(2)
                for (key, element) in dictionary.entries {
                    try separate(level: level + 1)
                    try add(key.utf8.count + 2 + (writer.separators?.key ?? ": ").utf8.count)
                    try add(element, level: level + 1)
                }
            default: try add(Self.scalarLength(value))
            }
        }

        /// The length of the JSON of a value that holds no others, without escapes; values JSON cannot
        /// hold count nothing, as serializing them fails once they are measured.
        private static func scalarLength(_ value: TemplateValue) -> Int {
            switch value {
            case .none: 4
            case .bool(let flag): flag ? 4 : 5
            case .int(let integer): String(integer).utf8.count
            case .double(let number): JSONWriter.pythonFloat(number).utf8.count
            case .string(let text): text.utf8.count + 2
            case .undefined, .namespace, .function, .list, .tuple, .dictionary: 0
            }
        }

        /// The item separator, newline and indent before an item at `level`.
        private mutating func separate(level: Int) throws(TemplateError) {
            try add((writer.separators?.item ?? ", ").utf8.count)
            if let indent = writer.indent { try add(1 + indent * level) }
        }
    }
}
