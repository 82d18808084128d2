import Foundation

/// An environment in any language (`environment_command`): one long-lived process for the whole run, started with
/// `/bin/sh -c COMMAND`, speaking JSON lines (one request per line on its standard input, one answer per line on
/// its standard output, flushed; standard error passes through):
///
/// - `{"type": "reset", "rollout": 7, "row": {…the dataset row…}}` → `{"rollout": 7, "text": "…" or null,
///   "tools": [definitions]}` (both optional): text appended to the last user message, the episode's tools;
/// - `{"type": "call", "rollout": 7, "name": "move", "arguments": {…}}` → `{"rollout": 7, "result": …}` or
///   `{"rollout": 7, "error": "message"}` (a failed call the model reads), either with `"done": true` to end the
///   episode; a result that is not a string is shown as JSON;
/// - `{"type": "reward", "rollout": 7}` → `{"rollout": 7, "reward": number or null}` once the episode is over.
///
/// The protocol's failures (see `JSONLinesSession`) stop the run with an `AgentError` naming the command and line.
public final class EnvironmentCommand: Environment {
    private let session: JSONLinesSession

    /// Starts the command; `timeout` is the seconds allowed for each answer.
    public init(command: String, timeout: TimeInterval = 60) throws {
        session = try JSONLinesSession(setting: "environment_command", command: command, timeout: timeout)
    }

    public func reset(rollout: Int, row: JSONObject) throws -> EpisodeStart {
        let answer = try session.ask(JSONObject([("type", "reset"), ("rollout", .int(rollout)), ("row", .object(row))]))
        var start = EpisodeStart()
        switch answer["text"] {
        case nil, .null?: break
        case .string(let text)?: start.appendedText = text
        default: throw session.malformed(answer, "\"text\" must be a string or null (text appended to the last user message)")
        }
        switch answer["tools"] {
        case nil, .null?: break
        case .array(let tools)?:
            for tool in tools where ToolDefinition.name(of: tool) == nil {
                throw session.malformed(answer, "each of \"tools\" must be a definition {\"type\": \"function\", "
                    + "\"function\": {\"name\": \"…\", \"description\": \"…\", \"parameters\": {…}}}; "
                    + "`\(CommandProcess.excerpt(JSONWriter().string(tool)))` has no name")
            }
            start.tools = tools
        default: throw session.malformed(answer, "\"tools\" must be a list of tool definitions")
        }
        return start
    }

    public func call(rollout: Int, name: String, arguments: JSONValue) throws -> ToolOutcome {
        let answer = try session.ask(JSONObject([("type", "call"), ("rollout", .int(rollout)), ("name", .string(name)),
                                                 ("arguments", arguments)]))
        return try ToolDefinition.outcome(of: answer, in: session)
    }

    public func reward(rollout: Int) throws -> Double? {
        let answer = try session.ask(JSONObject([("type", "reward"), ("rollout", .int(rollout))]))
        switch answer["reward"] {
        case .null?: return nil
        case .int(let number)?: return Double(number)
        case .double(let number)? where number.isFinite: return number
        default: throw session.malformed(answer, "it must be {\"rollout\": ID, \"reward\": number or null}")
        }
    }

    /// Closes the command's input (a well-behaved command exits on end of input) and stops it if it does not.
    public func stop() { session.stop() }
}
