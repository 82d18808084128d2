import Foundation

/// Reads a data file by its extension: `.parquet`, `.arrow` / `.arrows` (Arrow IPC file or stream),
/// `.jsonl` / `.json` / `.ndjson`, `.csv`.
public enum DataFileReader {
    /// The extensions of the files a dataset folder's splits may hold.
    public static let extensions = ["parquet", "arrow", "arrows", "jsonl", "json", "ndjson", "csv"]

    /// The rows and columns of `url`.
    public static func read(_ url: URL) throws(DatasetError) -> DataTable {
        switch url.pathExtension.lowercased() {
        case "parquet":
            let file = try ParquetFile(url: url)
            return DataTable(columns: file.columns, rows: try file.rows())
        case "arrow", "arrows":
            let file = try ArrowIPCFile(url: url)
            return DataTable(columns: file.columns, rows: file.rows)
        case "jsonl", "json", "ndjson": return try JSONDataFile.read(url)
        case "csv": return try CSVFile.read(url)
        default:
            throw DatasetError(file: url.path, "not a data file Fledge reads; give a "
                + extensions.map { "." + $0 }.joined(separator: ", ") + " file")
        }
    }
}
