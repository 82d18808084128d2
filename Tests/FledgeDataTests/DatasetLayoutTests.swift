@testable import FledgeData
import XCTest

/// A Hub repository's file list (as `/api/datasets/{repo}/revision/{rev}` lists it, before anything is
/// downloaded) resolved into a config's splits, as `datasets.load_dataset` resolves it.
final class DatasetLayoutTests: XCTestCase {
    static let listing = [
        ".gitattributes", "README.md", "main/test-00000-of-00001.parquet", "main/train-00000-of-00002.parquet",
        "main/train-00001-of-00002.parquet", "socratic/train-00000-of-00001.parquet", "images/cover.png",
    ]
    static let readme = """
        ---
        configs:
        - config_name: main
          data_files:
          - split: train
            path: main/train-*
          - split: test
            path: main/test-*
        - config_name: socratic
          data_files:
          - split: train
            path: socratic/train-*
        ---
        """

    func testReadmeConfigPicksOnlyItsFiles() throws {
        let layout = try DatasetLayout(files: Self.listing, readme: Self.readme, readmePath: "org/gsm@main/README.md",
                                       config: "main", source: "dataset org/gsm (revision main)")
        XCTAssertTrue(layout.isDeclared)
        XCTAssertEqual(layout.config, "main")
        XCTAssertEqual(layout.splits.map(\.name), ["train", "test"])
        XCTAssertEqual(layout.allFiles, ["main/train-00000-of-00002.parquet", "main/train-00001-of-00002.parquet",
                                         "main/test-00000-of-00001.parquet"])
        XCTAssertThrowsError(try DatasetLayout(files: Self.listing, readme: Self.readme, readmePath: "org/gsm@main/README.md",
                                               config: nil, source: "dataset org/gsm (revision main)")) { error in
            XCTAssertEqual("\(error)", "dataset org/gsm (revision main): the dataset has several configs (main, socratic) and none "
                + "is the default; set dataset_config")
        }
    }

    func testDefaultPatternsWithoutReadmeConfigs() throws {
        let layout = try DatasetLayout(files: ["README.md", "data/train-00000-of-00001.parquet", "data/test-00000-of-00001.parquet",
                                               "notes.txt"],
                                       readme: "# no front matter", readmePath: "README.md", config: nil, source: "org/x")
        XCTAssertFalse(layout.isDeclared)
        XCTAssertNil(layout.config)
        XCTAssertEqual(layout.splits.map(\.name), ["train", "test"])
        XCTAssertEqual(layout.allFiles, ["data/train-00000-of-00001.parquet", "data/test-00000-of-00001.parquet"])
        XCTAssertThrowsError(try DatasetLayout(files: ["train.jsonl"], readme: nil, readmePath: "README.md", config: "main",
                                               source: "org/x")) { error in
            XCTAssertEqual("\(error)", "org/x: dataset_config is main, but the README.md declares no configs")
        }
        XCTAssertTrue(try DatasetLayout(files: ["README.md", "images/cover.png"], readme: nil, readmePath: "README.md",
                                        config: nil, source: "org/x").splits.isEmpty)
    }
}
