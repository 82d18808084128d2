import Foundation

/// The tools and environment of a group-sampling run (`tools`, `environment_command`, …): the fields GRPO and RLOO
/// share. With either set, each row of a generation round is a multi-turn episode (``AgentRollouts``). TRL 1.16 has
/// them on `GRPOTrainer` only; RLOO taking them is a Fledge departure (its loss masks tool-result tokens as GRPO's
/// `tool_mask` does).
public struct ToolArguments: ConfigFieldTable, Equatable, Sendable {
    /// With `tools` or `environment_command`: the most turns whose tool calls are run and answered in one
    /// episode; `null` for no limit (`max_completion_length` still ends the episode).
    public var maxToolCallingIterations: Int? = nil
    /// Stateless tools the model may call (TRL's `GRPOTrainer(tools=…)`): `calculator` (built in) or `command:SHELL`,
    /// a program serving tools in JSON lines (see `ToolCommand`).
    public var tools: [String]? = nil
    /// Fledge's `environment_factory`: a shell command running the episodes' environment in JSON lines (see
    /// `EnvironmentCommand`).
    public var environmentCommand: String? = nil
    /// Seconds `environment_command` and tool commands may take to answer one line.
    public var environmentCommandTimeout = 60.0

    public init() {}

    /// The fields, by TRL name (`tools` and `environment_command` are Fledge's spellings of TRL's constructor
    /// arguments).
    public static var fields: [ConfigField<ToolArguments>] {
        [
            ConfigField("max_tool_calling_iterations", \.maxToolCallingIterations, .count),
            ConfigField("tools", \.tools),
            ConfigField("environment_command", \.environmentCommand),
            ConfigField("environment_command_timeout", \.environmentCommandTimeout,
                        .leftOpen(0, 86_400).because("at most a day per line")),
        ]
    }

    /// The toolbox these fields describe (started commands included), or nil when they describe none.
    public func toolbox() throws -> Toolbox? {
        try Toolbox.make(tools: tools ?? [], environmentCommand: environmentCommand, timeout: environmentCommandTimeout)
    }
}
