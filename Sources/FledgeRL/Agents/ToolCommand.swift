import Foundation

/// Stateless tools in any language (a `tools` entry `command:SHELL`): one long-lived process, asked once for its
/// tools and then to run calls, in JSON lines as `EnvironmentCommand` speaks them:
///
/// - `{"type": "tools"}` → `{"tools": [definitions]}`;
/// - `{"type": "call", "name": "lookup", "arguments": {…}}` → `{"result": …}` or `{"error": "message"}`.
public final class ToolCommand {
    /// The tools the command serves.
    public private(set) var tools: [any Tool] = []
    private let session: JSONLinesSession

    /// Starts the command and asks for its tools; `timeout` is the seconds allowed for each answer.
    public init(command: String, timeout: TimeInterval = 60) throws {
        session = try JSONLinesSession(setting: "tools entry 'command:\(command)'", command: command, timeout: timeout)
        let answer = try session.ask(JSONObject([("type", "tools")]))
        guard case .array(let definitions)? = answer["tools"], !definitions.isEmpty else {
            throw session.malformed(answer, "the answer to {\"type\": \"tools\"} must be {\"tools\": [definitions]} "
                + "with at least one definition")
        }
        tools = try definitions.map { definition in
            guard let name = ToolDefinition.name(of: definition) else {
                throw session.malformed(answer, "`\(CommandProcess.excerpt(JSONWriter().string(definition)))` is not a tool "
                    + "definition {\"type\": \"function\", \"function\": {\"name\": \"…\", …}}")
            }
            return CommandTool(name: name, definition: definition, session: session)
        }
    }

    /// Closes the command's input and stops it if it does not exit.
    public func stop() { session.stop() }
}

/// One tool of a `ToolCommand`.
private struct CommandTool: Tool {
    let name: String
    let definition: JSONValue
    let session: JSONLinesSession

    func call(arguments: JSONValue) throws -> ToolOutcome {
        let answer = try session.ask(JSONObject([("type", "call"), ("name", .string(name)), ("arguments", arguments)]))
        return try ToolDefinition.outcome(of: answer, in: session)
    }
}
