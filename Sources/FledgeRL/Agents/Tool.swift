/// A stateless tool the model may call in any episode (TRL's `tools`): a definition the chat template shows the
/// model, and a function from the call's arguments to a result.
public protocol Tool {
    /// The tool's name, as the model calls it.
    var name: String { get }

    /// The definition given to the chat template's `tools` variable
    /// (`{"type": "function", "function": {"name": …, "description": …, "parameters": {…}}}`).
    var definition: JSONValue { get }

    /// The result of a call with `arguments` (the JSON the model wrote); a failure is an outcome, not an error.
    /// Throws (an `AgentError`) only when the tool itself cannot work any more, which stops the run.
    func call(arguments: JSONValue) throws -> ToolOutcome
}
