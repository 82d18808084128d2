import Foundation
import FledgeJSON

/// The rows of a JSON Lines file: one JSON object per non-blank line, each with its line number.
public struct JSONLinesFile: Sendable {
    public let url: URL
    /// The rows in file order.
    public let rows: [(line: Int, object: JSONObject)]

    /// Reads and parses `url`; throws naming the line of the first row that is not UTF-8 text or not
    /// a JSON object, and when the file has no rows.
    public init(url: URL) throws(DatasetError) {
        try self.init(url: url, bytes: DataFileBytes.read(url))
    }

    /// Parses `bytes`, the contents of `url`.
    init(url: URL, bytes data: [UInt8]) throws(DatasetError) {
        self.url = url
        var rows: [(Int, JSONObject)] = []
        for (index, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let bytes = [UInt8](line)
            guard bytes.contains(where: { ![UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r")].contains($0) }) else { continue }
            if let (offset, byte) = UTF8Check.firstInvalidByte(in: bytes) {
                throw DatasetError(file: url.path, line: index + 1, UTF8Check.message(offset: offset, byte: byte))
            }
            let value: JSONValue
            do {
                value = try JSONParser.parse(bytes)
            } catch {
                throw DatasetError(file: url.path, line: index + 1, "not valid JSON (\(error.message) at column \(error.column)); "
                    + "each line must hold one JSON object")
            }
            guard case .object(let object) = value else {
                throw DatasetError(file: url.path, line: index + 1, "expected a JSON object per line, found \(value.kind)")
            }
            rows.append((index + 1, object))
        }
        guard !rows.isEmpty else { throw DatasetError(file: url.path, "the dataset is empty; add one JSON object per line") }
        self.rows = rows
    }
}
