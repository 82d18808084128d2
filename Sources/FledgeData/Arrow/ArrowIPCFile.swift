import Foundation
import FledgeJSON

/// An Arrow IPC file (`ARROW1` magic and footer) or stream (what `datasets` caches and `save_to_disk`
/// writes as `data-00000-of-00001.arrow`) read into rows as pyarrow's `to_pylist()` gives them:
/// the schema message, dictionary batches, then record batches, uncompressed or ZSTD-compressed.
///
/// The FlatBuffers metadata is read by hand (``FlatBufferTable``): no FlatBuffers runtime for Swift is
/// packaged on this platform, and the dozen tables Arrow's metadata uses need only offset reads.
public struct ArrowIPCFile: Sendable {
    public let url: URL
    /// The top-level columns, with types as pyarrow prints them.
    public let columns: [DataColumn]
    /// The rows in file order.
    public let rows: [JSONObject]

    /// Reads every message of `url`; errors name the file and the message (counted from 1).
    public init(url: URL) throws(DatasetError) {
        self.url = url
        let bytes = try DataFileBytes.read(url)
        var reader = MessageReader(bytes: bytes)
        var fields: [ArrowField]?
        var template: RowTemplate?
        var dictionaries: [Int64: [JSONValue]] = [:]
        var rows: [JSONObject] = []
        do throws(DataFormatError) {
            try reader.start()
            while let message = try reader.next() {
                do throws(DataFormatError) {
                    switch message.kind {
                    case 1:
                        guard fields == nil else { throw DataFormatError("a second schema message") }
                        let schema = try message.header
                        let read = try schema.tables(1).map { table throws(DataFormatError) in try ArrowField(table) }
                        fields = read
                        template = try RowTemplate(keys: read.map(\.name))
                    case 2:
                        guard let fields else { throw DataFormatError("a dictionary batch before the schema") }
                        let header = try message.header
                        let id = try header.int64(0)
                        guard let field = fields.flatMap(\.dictionaryFields).first(where: { $0.dictionary?.id == id }),
                              let data = try header.table(1) else {
                            throw DataFormatError("a dictionary batch with id \(id), which no field uses")
                        }
                        var batch = try ArrowRecordBatch(data, body: message.body, dictionaries: dictionaries)
                        let values = try batch.column(field.dictionaryValues)
                        dictionaries[id] = try header.bool(2) ? (dictionaries[id] ?? []) + values : values
                    case 3:
                        guard let fields, let template else { throw DataFormatError("a record batch before the schema") }
                        var batch = try ArrowRecordBatch(try message.header, body: message.body, dictionaries: dictionaries)
                        var columns: [[JSONValue]] = []
                        for field in fields {
                            let values = try batch.column(field)
                            guard values.count >= batch.length else {
                                throw DataFormatError("column '\(field.name)' has \(values.count) values for \(batch.length) rows")
                            }
                            columns.append(values)
                        }
                        for row in 0..<batch.length { rows.append(template.object(columns.map { $0[row] })) }
                    default:
                        throw DataFormatError("a message of type \(message.kind) (tensors are not datasets)")
                    }
                } catch {
                    throw DataFormatError("message \(reader.messageCount): \(error.message)")
                }
            }
        } catch {
            throw DatasetError(file: url.path, error.message)
        }
        guard let fields else { throw DatasetError(file: url.path, "the file has no schema message") }
        columns = fields.map { DataColumn(name: $0.name, type: $0.typeName) }
        self.rows = rows
    }

    /// Walks the encapsulated messages: a continuation marker, the metadata length, the `Message`
    /// FlatBuffer, then the body.
    private struct MessageReader {
        struct Message {
            let kind: UInt8
            let table: FlatBufferTable
            let body: ArraySlice<UInt8>

            var header: FlatBufferTable {
                get throws(DataFormatError) {
                    guard let header = try table.table(2) else { throw DataFormatError("the message has no header") }
                    return header
                }
            }
        }

        let bytes: [UInt8]
        private var position = 0
        private var end: Int
        private(set) var messageCount = 0

        init(bytes: [UInt8]) {
            self.bytes = bytes
            end = bytes.count
        }

        /// Skips the file format's magic and stops before its footer; a stream starts with its first message.
        mutating func start() throws(DataFormatError) {
            let magic = Array("ARROW1".utf8)
            guard bytes.starts(with: magic) else { return }
            guard bytes.count >= 18, bytes.suffix(6).elementsEqual(magic) else {
                throw DataFormatError("an Arrow file (it starts with ARROW1) must also end with ARROW1")
            }
            var cursor = ByteCursor(bytes, from: bytes.count - 10, to: bytes.count - 6)
            let footerLength = Int(try cursor.littleEndian(width: 4))
            guard footerLength <= bytes.count - 18 else { throw DataFormatError("the footer length \(footerLength) exceeds the file") }
            position = 8
            end = bytes.count - 10 - footerLength
        }

        /// The next message, or nil at the end-of-stream marker or the end of the data.
        mutating func next() throws(DataFormatError) -> Message? {
            guard end - position >= 4 else { return nil }
            messageCount += 1
            do throws(DataFormatError) {
                return try read()
            } catch {
                throw DataFormatError("message \(messageCount): \(error.message)")
            }
        }

        private mutating func read() throws(DataFormatError) -> Message? {
            var cursor = ByteCursor(bytes, from: position, to: end)
            var length = try cursor.littleEndian(width: 4)
            if length == 0xFFFF_FFFF { length = try cursor.littleEndian(width: 4) }
            if length == 0 { return nil }
            let metadata = try cursor.skip(Int(length))
            let table = try FlatBufferTable.root(bytes, start: metadata.lowerBound, end: metadata.upperBound)
            let bodyLength = try table.int64(3)
            guard bodyLength >= 0, bodyLength <= Int64(cursor.remaining) else {
                throw DataFormatError("a body of \(bodyLength) bytes overruns the file")
            }
            let body = bytes[try cursor.skip(Int(bodyLength))]
            position = cursor.position
            return Message(kind: try table.uint8(1), table: table, body: body)
        }
    }
}
