/// A top-level column of a data file: its name and its type as pyarrow prints it (`int64`, `string`,
/// `list<element: struct<role: string, content: string>>`, …).
public struct DataColumn: Equatable, Sendable {
    public let name: String
    public let type: String

    public init(name: String, type: String) {
        self.name = name
        self.type = type
    }
}
