import FledgeJSON

extension OrderedStringDictionary where Value == JSONValue {
    /// The entries whose value is not null: the columns a row really has, when a file gives every row
    /// every column.
    public func droppingNulls() -> JSONObject {
        JSONObject(entries.filter { $0.value != .null }.map { ($0.key, $0.value) })
    }
}
