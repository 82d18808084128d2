/// A problem with a dataset file, naming the file, the line or row when there is one, and the fix.
public struct DatasetError: Error, CustomStringConvertible, Equatable {
    /// The file (or the `dataset_name` setting) at fault.
    public let file: String
    /// The 1-based line of a text file (JSON Lines, CSV), when the problem is in one row.
    public let line: Int?
    /// The 1-based row of a file without lines (Parquet, Arrow, a JSON array), when the problem is in one row.
    public let row: Int?
    public let message: String

    public init(file: String, line: Int? = nil, row: Int? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.row = row
        self.message = message
    }

    /// An error about the row at `position`.
    public init(at position: DatasetRowPosition, _ message: String) {
        self.init(file: position.file, line: position.line, row: position.line == nil ? position.row : nil, message)
    }

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        if let row { return "\(file), row \(row): \(message)" }
        return "\(file): \(message)"
    }
}

/// Where a row of a dataset split is: its file, its line when the file is text, and its row in the file.
public struct DatasetRowPosition: Equatable, Sendable {
    public let file: String
    public let line: Int?
    /// The 1-based row in `file`.
    public let row: Int

    public init(file: String, line: Int?, row: Int) {
        self.file = file
        self.line = line
        self.row = row
    }

    /// "line N" for a text file, else "row N".
    public var label: String { line.map { "line \($0)" } ?? "row \(row)" }
}
