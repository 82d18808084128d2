import FledgeJSON

/// A dataset column that holds a conversation: a non-empty list of `{"role", "content"}` messages.
enum MessageColumn {
    /// `list` checked as the messages of `column`; `fail` makes the error for the row being read.
    static func messages(_ list: [JSONValue], column: String, _ fail: (String) -> DatasetError) throws(DatasetError) -> [JSONValue] {
        guard !list.isEmpty else { throw fail("'\(column)' is an empty list; it needs at least one message") }
        for (index, message) in list.enumerated() {
            guard case .string? = message["role"] else {
                throw fail("\(column)[\(index)] is not a message: each needs a string 'role' and a 'content', found \(message.kind)")
            }
        }
        return list
    }
}
