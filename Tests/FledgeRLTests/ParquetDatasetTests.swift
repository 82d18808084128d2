import Foundation
import XCTest
@testable import FledgeRL

/// The SFT and DPO fixture rows exported to Parquet by `datasets` (Scripts/reference/make_dataset_fixtures.py)
/// tokenize into exactly the sequences their JSON Lines give: training reads Parquet as it reads JSON Lines.
final class ParquetDatasetTests: XCTestCase {
    func testSFTRowsFromParquetEqualTheirJSONLines() throws {
        let folder = fixtureURL("sft")
        for name in ["messages", "prompt_completion", "conversational_prompt_completion", "text"] {
            let parquet = try SFTDataset(file: folder.appendingPathComponent("parquet/\(name).parquet"),
                                         tokenizer: try SFTFixtures.tokenizer(), config: SFTConfig())
            let lines = try SFTDataset(file: folder.appendingPathComponent("\(name).jsonl"),
                                       tokenizer: try SFTFixtures.tokenizer(), config: SFTConfig())
            XCTAssertEqual(parquet.format, lines.format, name)
            XCTAssertFalse(parquet.sequences.isEmpty, name)
            XCTAssertEqual(parquet.sequences, lines.sequences, name)
        }
    }

    func testDPOPairsFromParquetEqualTheirJSONLines() throws {
        let folder = fixtureURL("dpo")
        let encoder = PreferenceEncoder(tokenizer: try SFTFixtures.tokenizer(), maxLength: 1024, truncationMode: .keepStart)
        for name in ["messages", "strings"] {
            let parquet = try PreferenceDataset(file: folder.appendingPathComponent("parquet/\(name).parquet"), encoder: encoder)
            let lines = try PreferenceDataset(file: folder.appendingPathComponent("\(name).jsonl"), encoder: encoder)
            XCTAssertFalse(parquet.pairs.isEmpty, name)
            XCTAssertEqual(parquet.pairs, lines.pairs, name)
        }
    }
}
