import FledgeTensor

/// Why a tokenizer could not be loaded or used. Every case names the file (and field) at fault.
public enum TokenizerError: Error, CustomStringConvertible, Sendable {
    /// A file that must exist could not be read.
    case unreadableFile(path: String, reason: String)
    /// A file is not valid JSON.
    case invalidJSON(path: String, error: JSONSyntaxError)
    /// A field is missing or has the wrong type or value.
    case invalidField(path: String, field: String, problem: String)
    /// A component or option that Fledge does not implement.
    case unsupported(path: String, field: String, what: String)
    /// An id that is not in the vocabulary.
    case unknownID(Int)
    /// A GGUF file whose tokenizer is read is malformed, or a `tokenizer.ggml.*` key has the wrong type.
    case invalidGGUF(GGUFError)

    public var description: String {
        switch self {
        case .unreadableFile(let path, let reason):
            "cannot read \(path): \(reason)"
        case .invalidJSON(let path, let error):
            "\(path) is not valid JSON: \(error)"
        case .invalidField(let path, let field, let problem):
            "\(path): field '\(field)' \(problem)"
        case .unsupported(let path, let field, let what):
            "\(path): field '\(field)': \(what) is not supported by Fledge"
        case .unknownID(let id):
            "token id \(id) is not in the vocabulary"
        case .invalidGGUF(let error):
            error.description
        }
    }
}
