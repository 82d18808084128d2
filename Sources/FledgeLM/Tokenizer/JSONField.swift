/// A JSON value together with the file and field path it came from, so that every type error
/// can say exactly where it is ("tokenizer.json: field 'model.merges[3]' must be a string").
struct JSONField {
    let value: JSONValue
    let file: String
    private let prefix: String
    /// The position in the parent array; kept apart so that reading a 150k-element array makes no path strings.
    private let index: Int?

    init(_ value: JSONValue, file: String, path: String, index: Int? = nil) {
        self.value = value
        self.file = file
        prefix = path
        self.index = index
    }

    /// Where the value is, e.g. `model.merges[3]`.
    var path: String { index.map { "\(prefix)[\($0)]" } ?? prefix }

    /// A child field; missing keys read as `null`.
    subscript(key: String) -> JSONField {
        JSONField(value[key] ?? .null, file: file, path: path.isEmpty ? key : "\(path).\(key)")
    }

    var isNull: Bool { value == .null }

    func problem(_ text: String) -> TokenizerError {
        .invalidField(path: file, field: path, problem: text)
    }

    func unsupported(_ what: String) -> TokenizerError {
        .unsupported(path: file, field: path, what: what)
    }

    private func wrongType(_ expected: String) -> TokenizerError {
        isNull ? problem("is missing (expected \(expected))") : problem("must be \(expected), found \(value.kind)")
    }

    func string() throws(TokenizerError) -> String {
        guard case .string(let text) = value else { throw wrongType("a string") }
        return text
    }

    func optionalString() throws(TokenizerError) -> String? {
        isNull ? nil : try string()
    }

    func int() throws(TokenizerError) -> Int {
        guard case .int(let number) = value else { throw wrongType("an integer") }
        return number
    }

    func bool(default defaultValue: Bool) throws(TokenizerError) -> Bool {
        if isNull { return defaultValue }
        guard case .bool(let flag) = value else { throw wrongType("true or false") }
        return flag
    }

    func array() throws(TokenizerError) -> [JSONField] {
        guard case .array(let elements) = value else { throw wrongType("an array") }
        let arrayPath = path
        return elements.enumerated().map { JSONField($1, file: file, path: arrayPath, index: $0) }
    }

    func object() throws(TokenizerError) -> JSONObject {
        guard case .object(let object) = value else { throw wrongType("an object") }
        return object
    }

    /// The `type` of a component, e.g. `"BPE"` or `"ByteLevel"`.
    func type() throws(TokenizerError) -> String {
        try self["type"].string()
    }
}
