/// An environment or tool that cannot go on (a command that crashed, hung or answered something that is not the
/// protocol), or a setting that cannot work; the message names the command, the request line and what would fix it.
public struct AgentError: Error, CustomStringConvertible, Equatable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
