import Foundation
import FledgeJSON

/// A Parquet file read into rows: the footer's Thrift metadata, then each row group's column chunks
/// (every page decoded, decompressed with the system's snappy, zlib or zstd), assembled into JSON
/// objects exactly as pyarrow's `read_table(…).to_pylist()` gives them.
///
/// Written by hand: Apache Arrow's C++ Parquet library is not packaged for this platform (Debian has no
/// libparquet-dev), and the format's footer, levels and encodings are small enough to read directly.
public struct ParquetFile: Sendable {
    public let url: URL
    /// The top-level columns, with types as pyarrow prints them.
    public let columns: [DataColumn]
    /// The number of rows, from the footer.
    public let rowCount: Int
    /// The number of row groups.
    public let rowGroupCount: Int
    private let bytes: [UInt8]
    private let metadata: ParquetMetadata
    private let schema: ParquetSchema

    /// Opens `url` and reads its footer and schema; errors name the file.
    public init(url: URL) throws(DatasetError) {
        self.url = url
        bytes = try DataFileBytes.read(url)
        do throws(DataFormatError) {
            guard bytes.count >= 12, bytes.prefix(4).elementsEqual("PAR1".utf8), bytes.suffix(4).elementsEqual("PAR1".utf8) else {
                throw DataFormatError("not a Parquet file (it must start and end with PAR1)")
            }
            var lengthCursor = ByteCursor(bytes, from: bytes.count - 8, to: bytes.count - 4)
            let footerLength = Int(try lengthCursor.littleEndian(width: 4))
            guard footerLength <= bytes.count - 12 else { throw DataFormatError("the footer length \(footerLength) exceeds the file") }
            var reader = ThriftCompactReader(bytes, from: bytes.count - 8 - footerLength, to: bytes.count - 8)
            metadata = try ParquetMetadata(reader.readStruct())
            schema = try ParquetSchema(metadata.schema)
        } catch {
            throw DatasetError(file: url.path, "footer: \(error.message)")
        }
        columns = schema.columns
        rowCount = metadata.rowCount
        rowGroupCount = metadata.rowGroups.count
    }

    /// Every row, in file order; errors name the row group (from 1), column and page.
    public func rows() throws(DatasetError) -> [JSONObject] {
        var rows: [JSONObject] = []
        rows.reserveCapacity(max(0, min(rowCount, bytes.count)))
        for (groupIndex, group) in metadata.rowGroups.enumerated() {
            let place = "row group \(groupIndex + 1)"
            guard group.columns.count == schema.leaves.count else {
                throw DatasetError(file: url.path, "\(place): \(group.columns.count) column chunks for \(schema.leaves.count) columns")
            }
            var chunks: [ParquetColumnChunk] = []
            for (leaf, chunk) in zip(schema.leaves, group.columns) {
                do throws(DataFormatError) {
                    chunks.append(try ParquetColumnChunk(file: bytes, chunk: chunk, leaf: leaf))
                } catch {
                    throw DatasetError(file: url.path, "\(place), column '\(leaf.path)', \(error.message)")
                }
            }
            var assembler = ParquetRecordAssembler(chunks: chunks, leaves: schema.leaves)
            do throws(DataFormatError) {
                rows += try assembler.rows(count: group.rowCount, schema: schema)
            } catch {
                throw DatasetError(file: url.path, "\(place): \(error.message)")
            }
        }
        guard rows.count == rowCount else {
            throw DatasetError(file: url.path, "the row groups hold \(rows.count) rows but the footer says \(rowCount)")
        }
        return rows
    }
}
