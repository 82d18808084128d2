import Foundation

/// A data file's columns and row count, read without decoding its rows where the format allows
/// (a Parquet footer holds both).
public struct DataFileSummary: Sendable {
    public let columns: [DataColumn]
    public let rowCount: Int

    /// Summarises `url`; errors name the file.
    public init(_ url: URL) throws(DatasetError) {
        if url.pathExtension.lowercased() == "parquet" {
            let file = try ParquetFile(url: url)
            columns = file.columns
            rowCount = file.rowCount
        } else {
            let table = try DataFileReader.read(url)
            columns = table.columns
            rowCount = table.rows.count
        }
    }
}
