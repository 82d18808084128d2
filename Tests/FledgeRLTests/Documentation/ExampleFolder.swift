import Foundation
import XCTest
@testable import FledgeRL

/// One folder of `examples/`: its config, README and sample data, read for the example tests.
struct ExampleFolder {
    /// The folder's name (`grpo-gsm8k`).
    let name: String
    /// The folder's path relative to the repository root.
    var path: String { "examples/" + name }
    /// `config.yaml`.
    var config: URL { RepositoryFiles.url(path + "/config.yaml") }
    /// `README.md`.
    var readme: URL { RepositoryFiles.url(path + "/README.md") }
    /// `data/train.jsonl`.
    var data: URL { RepositoryFiles.url(path + "/data/train.jsonl") }

    /// The jobs issue 10 asks examples for, the `reward_command` example of docs/rewards.md, the reward
    /// model of issue 23 and the TRL fields example of issue 26.
    static let required = ["grpo-gsm8k", "dapo", "dr-grpo", "dpo", "ppo", "sft", "reward-command", "reward", "trl-fields"]

    /// The columns the README promises, from its line `Columns: `a`, `b``.
    func promisedColumns() throws -> [String] {
        let text = try RepositoryFiles.text(readme)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Columns:") }) else {
            XCTFail("\(path)/README.md has no line `Columns: `name`, …` listing the data's columns")
            return []
        }
        return line.split(separator: "`", omittingEmptySubsequences: false).enumerated()
            .filter { $0.offset % 2 == 1 }.map { String($0.element) }
    }

    /// The JSON lines shown in the README's ```json blocks.
    func readmeSampleLines() throws -> [String] {
        DataRows.fencedLines(try RepositoryFiles.text(readme), language: "json").map(String.init)
    }

    /// The rows of `data/train.jsonl`, each a JSON object (other lines fail the test).
    func rows() throws -> [JSONObject] {
        DataRows.parse(try RepositoryFiles.text(data).split(separator: "\n", omittingEmptySubsequences: false),
                       source: path + "/data/train.jsonl")
    }
}
