import Foundation
import XCTest
@testable import FledgeRL

/// `examples/reward-command/score.py`, run through `RewardCommand` exactly as its config names it
/// (from the repository root), on the example's own data rows.
final class ExampleRewardCommandTests: XCTestCase {
    private let folder = ExampleFolder(name: "reward-command")

    func testScoreScriptRewardsTheExamplesData() throws {
        try XCTSkipUnless(Self.hasPython3, "python3 is not on PATH")
        let resolved = ConfigResolver.resolve(try ConfigDocument(contentsOf: folder.config))
        guard case .string(let configured)? = value(resolved, "reward_command") else {
            return XCTFail("\(folder.path)/config.yaml: set reward_command")
        }
        let rows = try folder.rows()
        XCTAssertFalse(rows.isEmpty)
        var samples: [RewardSample] = []
        var expected: [Double?] = []
        for row in rows {
            guard case .string(let answer)? = row["answer"], let marker = answer.range(of: "####", options: .backwards) else {
                return XCTFail("\(folder.path): every row's answer should end in #### <number>")
            }
            let number = answer[marker.upperBound...].trimmingCharacters(in: .whitespaces)
            let columns = JSONObject([("answer", .string(answer)), ("source", .string("example"))])
            for (completion, reward) in [
                ("<think>\nworked it out\n</think>\n<answer>\n\(number)\n</answer>", 1.0),
                ("<think>\n\(number) is tempting\n</think>\n<answer>\n\(number)1\n</answer>", 0.0),
                ("So the answer is \(number).", 0.5),
                ("I do not know.", 0.0),
            ] {
                samples.append(RewardSample(prompt: row["prompt"]!, completion: completion, completionIds: [1, 2], columns: columns))
                expected.append(reward)
            }
        }
        samples.append(RewardSample(prompt: .string("q"), completion: "<answer>3</answer>", completionIds: [3]))
        expected.append(nil)

        let command = try RewardCommand(command: "cd '\(RepositoryFiles.root.path)' && \(configured)", timeout: 30)
        defer { command.stop() }
        XCTAssertEqual(try command.score(samples), expected)
        // The same process keeps scoring later batches.
        XCTAssertEqual(try command.score(Array(samples.prefix(2))), Array(expected.prefix(2)))
    }

    /// The Python loop `docs/rewards.md` quotes is the script's own.
    func testRewardsDocQuotesTheScript() throws {
        let script = Set(try RepositoryFiles.text(RepositoryFiles.url(folder.path + "/score.py"))
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
        let quoted = DataRows.fencedLines(try RepositoryFiles.text(RepositoryFiles.url("docs/rewards.md")), language: "python")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        XCTAssertFalse(quoted.isEmpty, "docs/rewards.md: quote score.py's loop in a ```python block")
        for line in quoted where !script.contains(line) {
            XCTFail("docs/rewards.md quotes a line that score.py does not have: \(line)")
        }
    }

    /// Whether `python3` runs here.
    private static let hasPython3: Bool = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "pass"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()
}
