import Foundation
import XCTest
@testable import FledgeRL

/// The configs and sample data of `examples/`: every config resolves as `fledge config check` resolves
/// it, usable and without warnings or changes, and every sample data file has the columns its README
/// promises in the shapes the trainers read.
final class ExampleConfigTests: XCTestCase {
    private let folders = ExampleFolder.required.map(ExampleFolder.init(name:))

    func testEveryRequiredExampleHasAConfigAReadmeAndData() {
        for folder in folders {
            for url in [folder.config, folder.readme, folder.data] {
                XCTAssert(FileManager.default.fileExists(atPath: url.path), "missing \(RepositoryFiles.relativePath(url))")
            }
        }
    }

    /// Each YAML file under `examples/`, resolved through `ConfigDocument` and `ConfigResolver` with no
    /// flags (`fledge config check FILE`), for the trainer its `trainer:` field names.
    func testEveryExampleConfigIsUsableWithoutWarnings() throws {
        let configs = RepositoryFiles.files(under: "examples", endingWith: ".yaml")
        XCTAssertGreaterThanOrEqual(configs.count, folders.count, "expected a config.yaml in each example")
        for url in configs {
            let path = RepositoryFiles.relativePath(url)
            let document = try ConfigDocument(contentsOf: url)
            guard let named = document.entries.first(where: { $0.key == "trainer" }),
                  let trainer = try? TrainerKind(configValue: named.value)
            else {
                XCTFail("\(path): name the trainer with `trainer:` (grpo, dpo, ppo, sft, rloo or reward)")
                continue
            }
            let resolved = ConfigResolver.resolve(document, options: ConfigOptions())
            XCTAssertEqual(resolved.trainer, trainer, path)
            XCTAssert(resolved.report.isUsable, "\(path): \(resolved.report.errors)")
            XCTAssertEqual(resolved.report.warnings, [], "\(path) should resolve without warnings")
            XCTAssertEqual(resolved.report.changes, [], "\(path) should say exactly what it runs (no changes)")
        }
    }

    /// The policy model is a Hub id with `fledge download` in the README (a run finds it in the Hugging
    /// Face cache or downloads it); reward models come from `models/` with their download command in
    /// the README; data is the folder's own.
    func testExampleConfigsPointAtTheirDataAndDocumentedModels() throws {
        for folder in folders {
            let resolved = ConfigResolver.resolve(try ConfigDocument(contentsOf: folder.config))
            let readme = try RepositoryFiles.text(folder.readme)
            XCTAssertEqual(value(resolved, "dataset_name"), .string(folder.path + "/data"), folder.path)
            XCTAssert(readme.contains("fledge config check \(folder.path)/config.yaml"), "\(folder.path)/README.md: show the check")
            let rewardModels = try strings(resolved, "reward_funcs").filter { $0.hasPrefix("model:") }.map { String($0.dropFirst(6)) }
            for id in try strings(resolved, "model_name_or_path") {
                XCTAssertFalse(id.hasPrefix("models/"), "\(folder.path): name the model by its Hub id, as TRL configs do, not \(id)")
                XCTAssert(readme.contains("fledge download \(id)"), "\(folder.path)/README.md: say how to download \(id)")
            }
            for directory in rewardModels {
                XCTAssert(directory.hasPrefix("models/"), "\(folder.path): \(directory) should be under models/")
                XCTAssert(readme.contains("--local-dir \(directory)"), "\(folder.path)/README.md: say how to download \(directory)")
            }
        }
    }

    /// Every built-in reward a GRPO example names can be made, and scores every sample row (a reward
    /// that needs a column the data lacks throws; one whose reference answer is missing gives nil).
    func testBuiltInRewardsOfTheExamplesScoreTheirSampleData() throws {
        for folder in folders {
            let document = try ConfigDocument(contentsOf: folder.config)
            guard case let resolved as ConfigResolution<GRPOConfig> = ConfigResolver.resolve(document) else { continue }
            let specs = (resolved.config.run.rewardFuncs ?? []).filter { !$0.hasPrefix("model:") }
            let samples = try folder.rows().map { row in
                RewardSample(
                    prompt: row["prompt"] ?? .null, completion: "<think>\nno idea\n</think>\n<answer>\nnone\n</answer>",
                    completionIds: [1, 2, 3], columns: JSONObject(row.entries.filter { $0.key != "prompt" }.map { ($0.key, $0.value) }))
            }
            for spec in specs {
                let reward = try BuiltInRewards.make(spec, maxCompletionLength: resolved.config.generation.maxCompletionLength)
                let scores = try reward.score(samples)
                XCTAssertFalse(scores.contains(nil), "\(folder.path): \(spec) found no reference answer in some rows: \(scores)")
            }
            if let command = resolved.config.run.rewardCommand {
                for token in command.split(separator: " ") where token.contains("/") {
                    XCTAssert(FileManager.default.fileExists(atPath: RepositoryFiles.url(String(token)).path),
                              "\(folder.path): reward_command names \(token), which is not in the repository")
                }
            }
        }
    }

    /// `data/train.jsonl` is JSON Lines with exactly the README's columns; text columns hold a string
    /// or a list of chat messages; the README's sample lines are lines of the file.
    func testSampleDataHasTheColumnsItsReadmePromises() throws {
        for folder in folders {
            let columns = try folder.promisedColumns()
            XCTAssertFalse(columns.isEmpty, "\(folder.path)/README.md: list the columns")
            let rows = try folder.rows()
            XCTAssertGreaterThanOrEqual(rows.count, 3, "\(folder.path)/data/train.jsonl: show a few rows")
            for (index, row) in rows.enumerated() {
                let place = "\(folder.path)/data/train.jsonl line \(index + 1)"
                XCTAssertEqual(Set(row.keys), Set(columns), "\(place): columns")
                DataRows.checkTextColumns(row, at: place)
            }
            let fileLines = Set(try RepositoryFiles.text(folder.data).split(separator: "\n").map(String.init))
            let shown = try folder.readmeSampleLines()
            XCTAssertFalse(shown.isEmpty, "\(folder.path)/README.md: show sample lines in a ```json block")
            for line in shown where !fileLines.contains(line) {
                XCTFail("\(folder.path)/README.md shows a line that is not in data/train.jsonl: \(line.prefix(120))")
            }
        }
    }

    /// A string or list-of-strings field of a resolved config.
    private func strings(_ resolved: any ResolvedConfig, _ name: String) throws -> [String] {
        guard let field = value(resolved, name), field != .null else { return [] }
        return try [String](configValue: field)
    }
}
