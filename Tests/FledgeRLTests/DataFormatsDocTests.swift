import XCTest
@testable import FledgeRL

/// The JSON Lines samples of `docs/data-formats.md` are valid rows of the shapes the page describes.
final class DataFormatsDocTests: XCTestCase {
    func testSampleRowsAreJSONObjectsWithTextOrMessages() throws {
        let page = RepositoryFiles.url("docs/data-formats.md")
        let rows = DataRows.parse(DataRows.fencedLines(try RepositoryFiles.text(page), language: "jsonl"),
                                  source: "docs/data-formats.md")
        XCTAssertGreaterThanOrEqual(rows.count, 10, "docs/data-formats.md: expected samples of every shape in ```jsonl blocks")
        for (index, row) in rows.enumerated() {
            XCTAssert(row.keys.contains { DataRows.textColumns.contains($0) } || row["text"] != nil, "sample \(index + 1): \(row.keys)")
            DataRows.checkTextColumns(row, at: "docs/data-formats.md sample \(index + 1)")
        }
    }
}
