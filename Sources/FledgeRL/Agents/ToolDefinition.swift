/// What tools and environments share: reading a definition's name and a call's answer.
enum ToolDefinition {
    /// The name of a definition `{"type": "function", "function": {"name": …}}` (or a bare `{"name": …}`), nil
    /// when it has none.
    static func name(of definition: JSONValue) -> String? {
        (definition["function"] ?? definition)["name"]?.stringValue
    }

    /// The outcome an answer `{"result": …}` or `{"error": "…"}`, with an optional `"done": true`, describes.
    static func outcome(of answer: JSONObject, in session: JSONLinesSession) throws -> ToolOutcome {
        let ends: Bool
        switch answer["done"] {
        case nil, .null?, .bool(false)?: ends = false
        case .bool(true)?: ends = true
        default: throw session.malformed(answer, "\"done\" must be true or false")
        }
        switch (answer["result"], answer["error"]) {
        case (let result?, nil):
            return ToolOutcome(text: result.stringValue ?? JSONWriter().string(result), endsEpisode: ends)
        case (nil, .string(let message)?):
            return .failure(message, endsEpisode: ends)
        default:
            throw session.malformed(answer, "it must hold either \"result\" (the text the model reads) or \"error\" "
                + "(a message string), not both or neither")
        }
    }
}
