import FledgeTensor

/// The rows of a data file (Parquet, Arrow IPC, JSON, CSV) as JSON objects, the form Fledge's
/// datasets take, with the file's columns.
public struct DataTable: Sendable {
    /// The columns in file order (every row has these keys, in this order).
    public let columns: [DataColumn]
    /// The rows in file order.
    public let rows: [JSONObject]

    public init(columns: [DataColumn], rows: [JSONObject]) {
        self.columns = columns
        self.rows = rows
    }
}
