import FledgeData
import FledgeJSON
import Foundation
import XCTest

/// Parquet files pyarrow wrote (every encoding, compression, page version, nesting and nulls) read into
/// exactly the rows `to_pylist()` gives.
final class ParquetFileTests: XCTestCase {
    func testEveryFixtureReadsAsPyarrowReadsIt() throws {
        let files = DatasetFixtures.files(under: "parquet/")
        XCTAssertGreaterThanOrEqual(files.count, 15)
        for (path, entry) in files {
            let file = try ParquetFile(url: DatasetFixtures.url(path))
            DatasetFixtures.assertRows(try file.rows(), equal: entry["rows"], path)
            XCTAssertEqual(file.columns, DatasetFixtures.columns(entry), path)
            XCTAssertEqual(file.rowGroupCount, entry["row_groups"].flatMap { if case .int(let n) = $0 { n } else { nil } }, path)
        }
    }
}

/// Malformed Parquet files give errors that name the file and where in it the problem is.
final class ParquetFileErrorTests: XCTestCase {
    private func corrupted(_ name: String, _ change: (inout [UInt8]) -> Void) throws -> URL {
        var bytes = [UInt8](try Data(contentsOf: DatasetFixtures.url("parquet/" + name)))
        change(&bytes)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-\(UUID().uuidString).parquet")
        try Data(bytes).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func message(_ url: URL) -> String {
        do {
            _ = try ParquetFile(url: url).rows()
            return "no error"
        } catch {
            XCTAssertEqual(error.file, url.path)
            return error.message
        }
    }

    func testNotParquet() throws {
        let url = try corrupted("plain-none-v1.parquet") { $0[0] = UInt8(ascii: "X") }
        XCTAssertEqual(message(url), "footer: not a Parquet file (it must start and end with PAR1)")
    }

    func testCorruptPageHeaderNamesRowGroupColumnAndPage() throws {
        // The first column chunk starts right after the magic: its first page header is at byte 4.
        let url = try corrupted("plain-none-v1.parquet") { $0.replaceSubrange(4..<8, with: [0x1F, 0x0F, 0x0F, 0x0F]) }
        XCTAssertTrue(message(url).hasPrefix("row group 1, column 'id', page 1: "), message(url))
    }

    func testCorruptSnappyPageNamesThePage() throws {
        let file = try ParquetFile(url: DatasetFixtures.url("parquet/plain-snappy-v1.parquet"))
        XCTAssertEqual(file.rowCount, 11)
        // Overwrite the compressed body of the first page, leaving its header intact.
        let url = try corrupted("plain-snappy-v1.parquet") { bytes in
            for index in 30..<50 { bytes[index] = 0xFF }
        }
        XCTAssertTrue(message(url).hasPrefix("row group 1, column 'id', page 1: "), message(url))
    }

    /// Found by the parquet fuzz target: a schema element claiming a negative number of children
    /// trapped on an invalid range.
    func testNegativeChildCountIsAnError() {
        let url = DatasetFixtures.url("malformed/negative-child-count.parquet")
        XCTAssertTrue(message(url).contains("children; the schema lists"), message(url))
    }

    /// Found by the parquet fuzz target: a row group claiming a negative number of rows trapped.
    func testNegativeRowCountIsAnError() {
        let url = DatasetFixtures.url("malformed/negative-row-count.parquet")
        XCTAssertTrue(message(url).contains("rows, but a column holds"), message(url))
    }

    func testTruncatedFooter() throws {
        let url = try corrupted("plain-none-v1.parquet") { bytes in
            let length = bytes.count
            bytes.replaceSubrange(length - 8..<length - 4, with: [0xFF, 0xFF, 0xFF, 0x7F])
        }
        XCTAssertTrue(message(url).hasPrefix("footer: the footer length"), message(url))
    }
}
