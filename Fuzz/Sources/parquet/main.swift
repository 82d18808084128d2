import FledgeData
import FuzzSupport

/// A Parquet file: the footer and schema on open, then every row group's pages decoded and assembled
/// into rows, each of which must have exactly the file's columns.
func fuzzParquet(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let url = ScratchDirectory.write(fuzzInput(data, size), to: "data.parquet")
    guard let file = try? ParquetFile(url: url), let rows = try? file.rows() else { return 0 }
    precondition(rows.count == file.rowCount, "\(rows.count) rows but the footer says \(file.rowCount)")
    for row in rows { precondition(row.keys == file.columns.map(\.name), "a row without the file's columns") }
    return 0
}

runFuzzer(fuzzParquet)
