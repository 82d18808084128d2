import FledgeData
import FledgeJSON
import Foundation
import XCTest

/// Arrow IPC files and streams written by pyarrow and by `datasets`' `save_to_disk` read into exactly
/// the rows `to_pylist()` gives.
final class ArrowIPCFileTests: XCTestCase {
    func testEveryFixtureReadsAsPyarrowReadsIt() throws {
        let files = DatasetFixtures.files(under: "arrow/")
        XCTAssertEqual(files.count, 5)
        for (path, entry) in files {
            let file = try ArrowIPCFile(url: DatasetFixtures.url(path))
            DatasetFixtures.assertRows(file.rows, equal: entry["rows"], path)
            if let columns = DatasetFixtures.columns(entry) { XCTAssertEqual(file.columns, columns, path) }
        }
    }

    func testTruncatedStreamNamesTheMessage() throws {
        let bytes = try Data(contentsOf: DatasetFixtures.url("arrow/stream-zstd.arrows"))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-\(UUID().uuidString).arrows")
        try bytes.prefix(bytes.count / 2).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertThrowsError(try ArrowIPCFile(url: url)) { error in
            let error = error as! DatasetError
            XCTAssertEqual(error.file, url.path)
            XCTAssertTrue(error.message.hasPrefix("message "), error.message)
        }
    }
}
