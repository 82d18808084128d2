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

    /// The jobs issue 10 asks examples for, plus the `reward_command` example of docs/rewards.md.
    static let required = ["grpo-gsm8k", "dapo", "dr-grpo", "dpo", "ppo", "sft", "reward-command"]

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
        var lines: [String] = []
        var inside = false
        for line in try RepositoryFiles.text(readme).split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                inside = line == "```json"
            } else if inside {
                lines.append(String(line))
            }
        }
        return lines
    }

    /// The rows of `data/train.jsonl`, each a JSON object, with the line numbers in failures.
    func rows() throws -> [JSONObject] {
        let lines = try RepositoryFiles.text(data).split(separator: "\n", omittingEmptySubsequences: false)
        var rows: [JSONObject] = []
        for (index, line) in lines.enumerated() where !(index == lines.count - 1 && line.isEmpty) {
            let value: JSONValue
            do {
                value = try JSONParser.parse(String(line))
            } catch {
                XCTFail("\(path)/data/train.jsonl line \(index + 1): not JSON: \(error)")
                continue
            }
            guard case .object(let object) = value else {
                XCTFail("\(path)/data/train.jsonl line \(index + 1): \(value.kind), not a JSON object")
                continue
            }
            rows.append(object)
        }
        return rows
    }
}
