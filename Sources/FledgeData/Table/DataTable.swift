import FledgeJSON

/// The rows of a data file (Parquet, Arrow IPC, JSON, CSV) as JSON objects, the form Fledge's
/// datasets take, with the file's columns.
public struct DataTable: Sendable {
    /// The columns in file order (every row has these keys, in this order).
    public let columns: [DataColumn]
    /// The rows in file order.
    public let rows: [JSONObject]
    /// The 1-based line each row starts on, for text files (JSON Lines, CSV); nil for the others.
    public let lines: [Int]?

    public init(columns: [DataColumn], rows: [JSONObject], lines: [Int]? = nil) {
        self.columns = columns
        self.rows = rows
        self.lines = lines
    }
}
