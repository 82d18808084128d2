/// A position in a template's source: 1-based line and column.
public struct SourcePosition: Sendable, Equatable, CustomStringConvertible {
    public let line: Int
    public let column: Int

    public var description: String { "line \(line), column \(column)" }
}

/// Why a chat template could not be parsed or rendered.
public indirect enum TemplateError: Error, CustomStringConvertible, Sendable {
    /// The template is not valid Jinja.
    case syntax(String, at: SourcePosition)
    /// A Jinja construct (tag, filter, test, method, operator) that Fledge does not implement.
    case unsupported(String, at: SourcePosition)
    /// An error while rendering, where Jinja (in transformers' sandbox) would raise too.
    case runtime(String, at: SourcePosition)
    /// The template called `raise_exception(message)`.
    case raised(String)
    /// The template went past one of the bounds every template is held to (``TemplateLimit``);
    /// the message says what went past it and by how much.
    case limitExceeded(TemplateLimit, String, at: SourcePosition)

    public var description: String {
        switch self {
        case .syntax(let message, let position): "chat template syntax error at \(position): \(message)"
        case .unsupported(let construct, let position): "chat template uses \(construct) at \(position), which Fledge does not support"
        case .runtime(let message, let position): "chat template error at \(position): \(message)"
        case .raised(let message): "chat template raised an exception: \(message)"
        case .limitExceeded(let limit, let message, let position):
            "chat template exceeds the \(limit.name) limit of \(limit.value) at \(position): \(message)"
        }
    }
}
