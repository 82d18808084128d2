import Foundation

/// The tools and the environment of a run, and the episodes they serve: each rollout's episode starts from its
/// dataset row, sees the stateless tools and its environment's tools, and has its calls run by whichever owns the
/// name.
///
/// Calls of different rollouts may come from different threads at once (``ToolCallQueue``); each tool, each tool
/// command and the environment serve one call at a time, so none of them needs to be thread-safe.
public final class Toolbox {
    /// The stateless tools, in the order their definitions reach the chat template.
    public let tools: [any Tool]
    /// The environment, if any.
    public let environment: (any Environment)?
    private let toolCommands: [ToolCommand]
    /// The lock each tool's calls take: one per tool, shared by the tools of one command (one process answers them).
    private let toolLocks: [String: NSLock]
    private let environmentLock = NSLock()

    /// A toolbox of `tools` and `environment`; throws when two tools share a name.
    public convenience init(tools: [any Tool], environment: (any Environment)? = nil) throws {
        try self.init(tools: tools, environment: environment, toolCommands: [])
    }

    private init(tools: [any Tool], environment: (any Environment)?, toolCommands: [ToolCommand]) throws {
        var seen = Set<String>()
        for tool in tools where !seen.insert(tool.name).inserted {
            throw AgentError("two tools are named '\(tool.name)'; each tool needs its own name")
        }
        self.tools = tools
        self.environment = environment
        self.toolCommands = toolCommands
        var locks: [String: NSLock] = [:]
        for command in toolCommands {
            let lock = NSLock()
            for tool in command.tools { locks[tool.name] = lock }
        }
        for tool in tools where locks[tool.name] == nil { locks[tool.name] = NSLock() }
        toolLocks = locks
    }

    /// The built-in tool names a `tools` entry may give.
    public static let builtInNames = ["calculator"]

    /// The toolbox a config describes — `tools` entries (`calculator`, or `command:SHELL` for a `ToolCommand`) and
    /// `environment_command` — or nil when it describes none; `timeout` is the seconds allowed for each answer.
    public static func make(tools entries: [String], environmentCommand: String?, timeout: TimeInterval) throws -> Toolbox? {
        guard !entries.isEmpty || environmentCommand != nil else { return nil }
        var tools: [any Tool] = []
        var commands: [ToolCommand] = []
        for entry in entries {
            if entry == "calculator" {
                tools.append(Calculator())
            } else if entry.hasPrefix("command:") {
                let command = try ToolCommand(command: String(entry.dropFirst("command:".count)), timeout: timeout)
                commands.append(command)
                tools += command.tools
            } else {
                throw AgentError("tools entry '\(entry)' is neither a built-in tool (\(builtInNames.joined(separator: ", "))) "
                    + "nor a command (command:SHELL, e.g. command:python3 tools.py)")
            }
        }
        let environment = try environmentCommand.map { try EnvironmentCommand(command: $0, timeout: timeout) }
        return try Toolbox(tools: tools, environment: environment, toolCommands: commands)
    }

    /// Starts rollout `rollout`'s episode on dataset row `row`.
    public func startEpisode(rollout: Int, row: JSONObject) throws -> Episode {
        let start = try environment?.reset(rollout: rollout, row: row) ?? EpisodeStart()
        var names = Set(tools.map(\.name))
        var environmentTools = Set<String>()
        for definition in start.tools {
            let name = ToolDefinition.name(of: definition) ?? ""
            guard names.insert(name).inserted else {
                throw AgentError("environment_command gave rollout \(rollout) a tool named '\(name)', a name another tool "
                    + "already has; each tool needs its own name")
            }
            environmentTools.insert(name)
        }
        return Episode(rollout: rollout, appendedText: start.appendedText, tools: tools.map(\.definition) + start.tools,
                       environmentTools: environmentTools)
    }

    /// Runs the call `name(arguments)` in `episode`; a name no tool has is a failed call (as in TRL). Safe to call
    /// from several threads at once.
    public func call(_ name: String, arguments: JSONValue, in episode: Episode) throws -> ToolOutcome {
        if episode.environmentTools.contains(name), let environment {
            environmentLock.lock()
            defer { environmentLock.unlock() }
            return try environment.call(rollout: episode.rollout, name: name, arguments: arguments)
        }
        if let tool = tools.first(where: { $0.name == name }), let lock = toolLocks[name] {
            lock.lock()
            defer { lock.unlock() }
            return try tool.call(arguments: arguments)
        }
        return .failure("Tool \(name) not found.")
    }

    /// The environment's reward for the finished `episode` (nil without an environment or when it gives none).
    public func reward(of episode: Episode) throws -> Double? {
        try environment?.reward(rollout: episode.rollout)
    }

    /// Stops the commands this toolbox started.
    public func stop() {
        toolCommands.forEach { $0.stop() }
        (environment as? EnvironmentCommand)?.stop()
    }
}

/// One rollout's episode: what its prompt gets and which tools it may call.
public struct Episode: Sendable {
    /// The rollout's id (unique within the run).
    public let rollout: Int
    /// Text appended to the last user message, if the environment gave any.
    public let appendedText: String?
    /// The tool definitions for the chat template's `tools` variable: the stateless tools, then the environment's.
    public let tools: [JSONValue]
    /// The names the environment runs.
    public let environmentTools: Set<String>
}
