import FledgeData
import FledgeJSON
import Foundation
import XCTest

/// The files written by Scripts/reference/make_dataset_fixtures.py and the rows pyarrow and `datasets`
/// read from them (`expected.json`).
enum DatasetFixtures {
    /// The fixtures folder.
    static let root = Bundle.module.url(forResource: "Fixtures/datasets", withExtension: nil)!

    static func url(_ relativePath: String) -> URL { root.appendingPathComponent(relativePath) }

    /// `expected.json`'s `files` (rows, columns, row groups per file) and `repos` (rows per folder/config/split).
    static let expected: JSONObject = {
        let bytes = [UInt8](FileManager.default.contents(atPath: url("expected.json").path)!)
        guard case .object(let object) = try! JSONParser.parse(bytes) else { fatalError("expected.json is not an object") }
        return object
    }()

    /// The expected entry of each file whose path starts with `prefix`.
    static func files(under prefix: String) -> [(path: String, entry: JSONValue)] {
        guard case .object(let files) = expected["files"] else { return [] }
        return files.entries.filter { $0.key.hasPrefix(prefix) }.map { ($0.key, $0.value) }
    }

    /// Asserts that `rows` are `expected` exactly: the same values, and every row's keys in the file's order.
    static func assertRows(_ rows: [JSONObject], equal expected: JSONValue?, _ name: String,
                           file: StaticString = #filePath, line: UInt = #line) {
        guard case .array(let expectedRows) = expected else { return XCTFail("\(name): no expected rows", file: file, line: line) }
        XCTAssertEqual(rows.count, expectedRows.count, "\(name): row count", file: file, line: line)
        for (index, (row, expectedRow)) in zip(rows, expectedRows).enumerated() {
            guard case .object(let expectedObject) = expectedRow else { return XCTFail("\(name): row \(index) is not an object") }
            XCTAssertEqual(row, expectedObject, "\(name): row \(index)", file: file, line: line)
            XCTAssertEqual(row.keys, expectedObject.keys, "\(name): row \(index) key order", file: file, line: line)
        }
    }

    /// The `[[name, type], …]` columns of an expected entry.
    static func columns(_ entry: JSONValue) -> [DataColumn]? {
        guard case .array(let pairs) = entry["columns"] else { return nil }
        return pairs.compactMap {
            guard case .array(let pair) = $0, case .string(let name) = pair.first, case .string(let type) = pair.last else { return nil }
            return DataColumn(name: name, type: type)
        }
    }
}
