import FledgeData
import FledgeJSON
import Foundation
import XCTest

/// JSON Lines, JSON arrays and CSV read into the rows `datasets.load_dataset("json" | "csv")` gives.
final class TextDataFileTests: XCTestCase {
    func testFixturesReadAsDatasetsReadsThem() throws {
        let files = DatasetFixtures.files(under: "text/")
        XCTAssertEqual(files.count, 3)
        for (path, entry) in files {
            DatasetFixtures.assertRows(try DataFileReader.read(DatasetFixtures.url(path)).rows, equal: entry["rows"], path)
        }
    }

    func testCSVTypesAndLines() throws {
        let table = try CSVFile.read(DatasetFixtures.url("text/rows.csv"))
        XCTAssertEqual(table.columns.map(\.type), ["string", "int64", "double", "bool", "string"])
        XCTAssertEqual(table.lines, [2, 3, 5])
    }

    private func write(_ text: String, _ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-\(UUID().uuidString)-" + name)
        try Data(text.utf8).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testMalformedTextNamesTheLine() throws {
        let unclosed = try write("a,b\n1,\"open\n2,3\n", "x.csv")
        XCTAssertThrowsError(try CSVFile.read(unclosed)) { error in
            XCTAssertEqual("\(error)", "\(unclosed.path):2: a quoted field is never closed; end it with \"")
        }
        let ragged = try write("a,b\n1,2\n1,2,3\n", "x.csv")
        XCTAssertThrowsError(try CSVFile.read(ragged)) { error in
            XCTAssertEqual("\(error)", "\(ragged.path):3: 3 fields, but the header names 2 columns; quote fields that hold commas")
        }
        let array = try write("[{\"a\": 1}, 2]", "x.json")
        XCTAssertThrowsError(try JSONDataFile.read(array)) { error in
            XCTAssertEqual("\(error)", "\(array.path), row 2: expected an object per element of the array, found an integer")
        }
    }

    func testJSONLinesColumnsAreUnitedAndNumbersUnified() throws {
        let url = try write("{\"a\": 1, \"b\": \"x\"}\n{\"c\": [1], \"a\": 2.5}\n", "x.jsonl")
        let table = try JSONDataFile.read(url)
        XCTAssertEqual(table.columns, [DataColumn(name: "a", type: "double"), DataColumn(name: "b", type: "string"),
                                       DataColumn(name: "c", type: "list<item: int64>")])
        XCTAssertEqual(table.rows[0].keys, ["a", "b", "c"])
        XCTAssertEqual(table.rows[0]["a"], .double(1))
        XCTAssertEqual(table.rows[1]["b"], .null)
    }
}

/// Found by the csv fuzz target: a lone carriage return ended a record without being passed over, so
/// the parser made empty records forever.
final class CSVLineEndingTests: XCTestCase {
    func testALoneCarriageReturnEndsARecord() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-\(UUID().uuidString).csv")
        try Data("a,b\r1,2\r\n3,4\n".utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let table = try CSVFile.read(url)
        XCTAssertEqual(table.rows.map { $0["a"] }, [.int(1), .int(3)])
        XCTAssertEqual(table.lines, [2, 3])
    }
}
