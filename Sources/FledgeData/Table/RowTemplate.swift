import FledgeJSON

/// The keys of a row or struct, hashed once and shared by every object built from them, so that reading
/// a million rows does not hash a million key sets.
struct RowTemplate: Sendable {
    private let empty: JSONObject

    /// Throws when a key repeats (a row cannot hold two columns of one name).
    init(keys: [String]) throws(DataFormatError) {
        empty = JSONObject(keys.map { ($0, JSONValue.null) })
        guard empty.count == keys.count else {
            let repeated = keys.enumerated().first { keys[..<$0.offset].contains($0.element) }?.element ?? ""
            throw DataFormatError("the name '\(repeated)' is used by two columns or fields")
        }
    }

    /// The keys (distinct, in order).
    var keys: [String] { empty.keys }

    /// An object with these keys and `values` (one per key, in order).
    func object(_ values: [JSONValue]) -> JSONObject {
        empty.replacingValues(values)
    }
}
