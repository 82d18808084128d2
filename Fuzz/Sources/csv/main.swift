import FledgeData
import FuzzSupport

/// A CSV file (RFC 4180 quoting, type inference), and the same bytes as a JSON dataset file (an array of
/// objects, or JSON Lines): every row must have exactly the columns, with a line for each CSV row.
func fuzzCSV(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    if let table = try? CSVFile.read(ScratchDirectory.write(bytes, to: "data.csv")) {
        precondition(table.lines?.count == table.rows.count, "a CSV row without its line")
        for row in table.rows { precondition(row.keys == table.columns.map(\.name), "a row without the header's columns") }
    }
    if let table = try? JSONDataFile.read(ScratchDirectory.write(bytes, to: "data.json")) {
        for row in table.rows { precondition(row.keys == table.columns.map(\.name), "a row without every column") }
    }
    return 0
}

runFuzzer(fuzzCSV)
