@testable import FledgeData
import FledgeJSON
import Foundation
import XCTest

/// Dataset folders resolved into configs and splits as `datasets.load_dataset(folder, config, split=…)`
/// resolves them, with the same rows.
final class DatasetRepositoryTests: XCTestCase {
    func testFoldersGiveTheRowsLoadDatasetGives() throws {
        guard case .object(let repos) = DatasetFixtures.expected["repos"] else { return XCTFail("no repos") }
        XCTAssertEqual(repos.count, 7)
        for (key, rows) in repos.entries {
            let parts = key.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            let repository = try DatasetRepository(DatasetFixtures.url("repos/" + parts[0]).path,
                                                   config: parts[1].isEmpty ? nil : parts[1])
            DatasetFixtures.assertRows(try repository.split(parts[2]).rows, equal: rows, key)
        }
    }

    func testSplitsAndConfigs() throws {
        XCTAssertThrowsError(try DatasetRepository(DatasetFixtures.url("repos/configs").path)) { error in
            XCTAssertTrue("\(error)".hasSuffix("several configs (main, socratic) and none is the default; set dataset_config"))
        }
        let configs = try DatasetRepository(DatasetFixtures.url("repos/configs").path, config: "main")
        XCTAssertEqual(configs.config, "main")
        XCTAssertEqual(configs.splitNames, ["train", "test"])
        XCTAssertThrowsError(try DatasetRepository(DatasetFixtures.url("repos/configs").path, config: "nope")) { error in
            XCTAssertTrue("\(error)".hasSuffix("no config 'nope' (the configs are main, socratic); set dataset_config to one of them"),
                          "\(error)")
        }
        let sharded = try DatasetRepository(DatasetFixtures.url("repos/sharded").path)
        XCTAssertEqual(sharded.splitNames, ["train", "validation"])
        XCTAssertEqual(sharded.files(ofSplit: "train")?.map(\.lastPathComponent),
                       ["train-00000-of-00002.parquet", "train-00001-of-00002.parquet"])
        XCTAssertEqual(try DatasetRepository(DatasetFixtures.url("repos/jsonl").path).splitNames, ["train", "test"])
        XCTAssertThrowsError(try sharded.split("test")) { error in
            XCTAssertTrue("\(error)".contains("no split 'test' (the splits are train, validation)"), "\(error)")
        }
        let file = try DatasetRepository(DatasetFixtures.url("text/rows.csv").path)
        XCTAssertEqual(file.splitNames, ["train"])
    }

    func testSaveToDiskFolder() throws {
        let saved = try DatasetRepository(DatasetFixtures.url("arrow/saved").path)
        XCTAssertEqual(saved.splitNames, ["train", "test"])
        let entry = DatasetFixtures.files(under: "arrow/saved/test/").first!.entry
        DatasetFixtures.assertRows(try saved.split("test").rows, equal: entry["rows"], "saved/test")
    }

    func testShardedRowPositionsNameTheirFile() throws {
        let split = try DatasetRepository(DatasetFixtures.url("repos/sharded").path).split("train")
        XCTAssertEqual(split.rows.count, 6)
        let position = split.position(of: 4)
        XCTAssertTrue(position.file.hasSuffix("train-00001-of-00002.parquet"))
        XCTAssertEqual(position.row, 2)
        XCTAssertNil(position.line)
        XCTAssertEqual("\(DatasetError(at: position, "bad"))", position.file + ", row 2: bad")
    }

    func testGlobs() throws {
        XCTAssertTrue(try glob("**/train[-._ 0-9]*").matches("train.jsonl"))
        XCTAssertTrue(try glob("**/train[-._ 0-9]*").matches("a/b/train-0.parquet"))
        XCTAssertFalse(try glob("**/train[-._ 0-9]*").matches("trainer.jsonl"))
        XCTAssertTrue(try glob("main/train-*").matches("main/train-00000-of-00001.parquet"))
        XCTAssertFalse(try glob("*.parquet").matches("a/b.parquet"))
        XCTAssertFalse(try glob("**").matches(".cache/x.parquet"))
    }

    private func glob(_ pattern: String) throws -> DataFilePattern { try DataFilePattern(pattern) }
}

/// A folder whose files are symbolic links, as a Hugging Face cache snapshot links its files to blobs.
final class DatasetRepositoryLinkTests: XCTestCase {
    func testLinkedShardsAreFound() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let snapshot = root.appendingPathComponent("snapshot/data")
        let blobs = root.appendingPathComponent("blobs")
        try FileManager.default.createDirectory(at: snapshot, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: blobs, withIntermediateDirectories: true)
        let shard = DatasetFixtures.url("repos/sharded/data/validation-00000-of-00001.parquet")
        try FileManager.default.copyItem(at: shard, to: blobs.appendingPathComponent("0123abcd"))
        try FileManager.default.createSymbolicLink(atPath: snapshot.appendingPathComponent("train-00000-of-00001.parquet").path,
                                                   withDestinationPath: "../../blobs/0123abcd")
        let repository = try DatasetRepository(root.appendingPathComponent("snapshot").path)
        XCTAssertEqual(repository.splitNames, ["train"])
        XCTAssertEqual(try repository.split("train").rows.count, 3)
    }
}

/// README.md configs that cannot give rows are refused naming the README and the config.
final class DatasetRepositoryReadmeErrorTests: XCTestCase {
    private func folder(readme: String) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try Data(readme.utf8).write(to: root.appendingPathComponent("README.md"))
        try Data("{\"a\": 1}\n".utf8).write(to: root.appendingPathComponent("train.jsonl"))
        addTeardownBlock { try? FileManager.default.removeItem(at: root) }
        return root
    }

    func testConfigsWithoutSplitsOrMatchesAreRefused() throws {
        let empty = try folder(readme: "---\nconfigs:\n- config_name: x\n  data_files: {}\n---\n")
        XCTAssertThrowsError(try DatasetRepository(empty.path)) { error in
            XCTAssertEqual("\(error)", empty.appendingPathComponent("README.md").path + ": config x lists no splits in its data_files")
        }
        let unmatched = try folder(readme: "---\nconfigs:\n- config_name: x\n  data_files: nothing/*.parquet\n---\n")
        XCTAssertThrowsError(try DatasetRepository(unmatched.path)) { error in
            XCTAssertTrue("\(error)".hasSuffix("config x, split train: no file matches nothing/*.parquet"), "\(error)")
        }
        let plain = try folder(readme: "# no front matter\n")
        XCTAssertEqual(try DatasetRepository(plain.path).splitNames, ["train"])
    }
}
