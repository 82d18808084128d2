import FledgeLM

/// One row of a training split as an algorithm takes it (DPO's ``PreferenceExample``, KTO's
/// ``UnpairedPreferenceExample``, reward modelling's ``RewardExample``), read by ``ExampleSplit``.
public protocol DatasetExample: Sendable {
    /// Reads a row; errors name the file, the line or row, the columns found and what the row needs.
    init(row: JSONObject, at position: DatasetRowPosition) throws(DatasetError)

    /// The row's shape in words ("text row", "row of chat answers"), for the error when a split mixes
    /// shapes.
    var shape: String { get }

    /// Whether the row is chat messages (else plain text or token ids).
    var isConversational: Bool { get }
}

extension PreferenceExample: DatasetExample {
    public var shape: String { isConversational ? "chat-message row" : "text row" }

    public var isConversational: Bool {
        if case .conversation = self { return true }
        return false
    }
}

extension UnpairedPreferenceExample: DatasetExample {
    public var shape: String { isConversational ? "chat-message row" : "text row" }
}
