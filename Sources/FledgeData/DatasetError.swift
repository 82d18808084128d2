/// A problem with a dataset file, naming the file, the line when there is one, and the fix.
public struct DatasetError: Error, CustomStringConvertible, Equatable {
    /// The file (or the `dataset_name` setting) at fault.
    public let file: String
    /// The 1-based line of a JSON Lines file, when the problem is in one row.
    public let line: Int?
    public let message: String

    public init(file: String, line: Int? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        (line.map { "\(file):\($0)" } ?? file) + ": " + message
    }
}
