import Foundation
import FledgeJSON

/// The rows of one split of a dataset, read from its files in order (the shards of a Hub dataset, or a
/// single file).
public struct DatasetSplit: Sendable {
    /// The files, in the order their rows come.
    public let files: [URL]
    /// The columns of the first file.
    public let columns: [DataColumn]
    /// Every row of every file.
    public let rows: [JSONObject]
    /// Per file: the index of its first row in `rows`, and its lines when it is text.
    private let starts: [Int]
    private let lines: [[Int]?]

    /// Reads `files` (at least one); errors name the file at fault.
    public init(files: [URL]) throws(DatasetError) {
        guard let first = files.first else { throw DatasetError(file: "dataset_name", "the split has no files") }
        var columns: [DataColumn] = []
        var rows: [JSONObject] = []
        var starts: [Int] = []
        var lines: [[Int]?] = []
        for file in files {
            let table = try DataFileReader.read(file)
            if file == first { columns = table.columns }
            starts.append(rows.count)
            lines.append(table.lines)
            rows += table.rows
        }
        self.files = files
        self.columns = columns
        self.rows = rows
        self.starts = starts
        self.lines = lines
    }

    /// A split of one file.
    public init(file: URL) throws(DatasetError) {
        try self.init(files: [file])
    }

    /// The file and line or row of row `index`.
    public func position(of index: Int) -> DatasetRowPosition {
        let fileIndex = (starts.lastIndex { $0 <= index }) ?? 0
        let row = index - starts[fileIndex]
        return DatasetRowPosition(file: files[fileIndex].path, line: lines[fileIndex]?[row], row: row + 1)
    }

    /// The files as a short phrase for messages: the path of a single file, else the first and a count.
    public var source: String {
        files.count == 1 ? files[0].path : "\(files[0].path) and \(files.count - 1) more files"
    }
}
