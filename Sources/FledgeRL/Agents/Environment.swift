/// What a model acts on over an episode (TRL's `environment_factory` objects): it starts each rollout's episode
/// from its dataset row, runs the tools the model calls, and may score the finished episode.
///
/// One environment serves a whole run; each rollout (one sampled completion of one prompt) is told apart by its
/// id, so an implementation keeps per-rollout state keyed by it. A thrown error (an `AgentError`) stops the run;
/// a tool that fails answers a `ToolOutcome` with `failed` set, which the model reads and the metrics count.
public protocol Environment: AnyObject {
    /// Starts rollout `rollout`'s episode on dataset row `row` (every column, the prompt included).
    func reset(rollout: Int, row: JSONObject) throws -> EpisodeStart

    /// Runs tool `name` with `arguments` (the JSON the model wrote) in rollout `rollout`'s episode.
    func call(rollout: Int, name: String, arguments: JSONValue) throws -> ToolOutcome

    /// The reward of rollout `rollout`'s finished episode, or nil for none (TRL's `get_reward`; an environment
    /// that does not score answers nil).
    func reward(rollout: Int) throws -> Double?
}

/// How an episode starts.
public struct EpisodeStart: Equatable, Sendable {
    /// Text appended to the last user message of the prompt (what TRL's `reset()` returns), or nil.
    public var appendedText: String?
    /// The tools the model may call in this episode, as chat templates take them
    /// (`{"type": "function", "function": {"name": …, "description": …, "parameters": {…}}}`).
    public var tools: [JSONValue]

    public init(appendedText: String? = nil, tools: [JSONValue] = []) {
        self.appendedText = appendedText
        self.tools = tools
    }
}

/// What one tool call gave.
public struct ToolOutcome: Equatable, Sendable {
    /// The text of the `tool` message the model reads next (for a failure, the error as TRL writes it).
    public var text: String
    /// Whether the call failed (counted in `tools/failure_frequency`).
    public var failed: Bool
    /// Whether the environment ended the episode with this call: no result is shown and nothing more is generated.
    public var endsEpisode: Bool

    public init(text: String, failed: Bool = false, endsEpisode: Bool = false) {
        self.text = text
        self.failed = failed
        self.endsEpisode = endsEpisode
    }

    /// A failed call, its message written as TRL writes a tool's exception: `{'error': 'message'}`.
    public static func failure(_ message: String, endsEpisode: Bool = false) -> ToolOutcome {
        ToolOutcome(text: "{'error': \(PythonRepr.string(message))}", failed: true, endsEpisode: endsEpisode)
    }
}
