import Foundation
import XCTest
@testable import FledgeRL

/// `fledge data show --json` prints exactly what Python prints for the rows pyarrow and `datasets` read
/// (the FledgeData fixtures of Scripts/reference/make_dataset_fixtures.py); `fledge data info` lists splits,
/// row counts and column types.
final class DataCommandTests: TemporaryDirectoryTestCase {
    /// The FledgeData test target's fixtures, found from this file's place in the repository.
    private static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FledgeDataTests/Fixtures/datasets")

    func testShowJSONPrintsWhatPythonPrints() throws {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("expected.json"))
        let expected = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let files = try XCTUnwrap(expected["files"] as? [String: [String: Any]])
        let printed = files.compactMap { path, entry in (entry["json_lines"] as? [String]).map { (path, $0) } }
        XCTAssertGreaterThanOrEqual(printed.count, 10)
        for (path, lines) in printed {
            let outcome = try runFledge(["data", "show", Self.fixtures.appendingPathComponent(path).path, "--json"])
            XCTAssertEqual(outcome.output, lines.map { $0 + "\n" }.joined(), path)
        }
    }

    func testShowPicksConfigSplitAndRowCount() throws {
        let folder = Self.fixtures.appendingPathComponent("repos/configs").path
        let outcome = try runFledge(["data", "show", folder, "--config", "main", "--split", "test", "--json"])
        XCTAssertEqual(outcome.output, "{\"question\": \"q3\", \"answer\": \"a3\"}\n")
        let sharded = try runFledge(["data", "show", Self.fixtures.appendingPathComponent("repos/sharded").path,
                                     "--json", "--rows", "4"])
        XCTAssertEqual(sharded.output.split(separator: "\n").count, 4)
        let missing = try runFledge(["data", "show", folder, "--config", "main", "--split", "validation"], expectSuccess: false)
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.output.contains("no split 'validation' (the splits are train, test)"), missing.output)
    }

    func testInfoListsSplitsRowsAndColumns() throws {
        let outcome = try runFledge(["data", "info", Self.fixtures.appendingPathComponent("repos/sharded").path])
        XCTAssertTrue(outcome.output.contains("split train: 6 rows in 2 files\n"), outcome.output)
        XCTAssertTrue(outcome.output.contains("split validation: 3 rows in 1 file\n"), outcome.output)
        XCTAssertTrue(outcome.output.contains("  column prompt: string\n"), outcome.output)
        let parquet = try runFledge(["data", "info", Self.fixtures.appendingPathComponent("parquet/dictionary-none-v1.parquet").path])
        XCTAssertTrue(parquet.output.contains("  column messages: list<element: struct<role: string, content: string>>\n"),
                      parquet.output)
    }
}
