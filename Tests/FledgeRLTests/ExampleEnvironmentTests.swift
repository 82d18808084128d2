import Foundation
import XCTest
@testable import FledgeRL

/// The Python environment of docs/agents.md (examples/agents/guess_environment.py): the doc quotes the script's own
/// lines, and, where `python3` runs, the script speaks the protocol through a whole episode.
final class ExampleEnvironmentTests: XCTestCase {
    private let script = "examples/agents/guess_environment.py"

    func testAgentsDocQuotesTheScript() throws {
        let lines = Set(try RepositoryFiles.text(RepositoryFiles.url(script)).split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) })
        let quoted = DataRows.fencedLines(try RepositoryFiles.text(RepositoryFiles.url("docs/agents.md")), language: "python")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        XCTAssertGreaterThan(quoted.count, 20, "docs/agents.md: quote the environment in a ```python block")
        for line in quoted where !lines.contains(line) {
            XCTFail("docs/agents.md quotes a line that \(script) does not have: \(line)")
        }
    }

    func testTheScriptRunsAnEpisode() throws {
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", "-c", "pass"]
        check.standardOutput = FileHandle.nullDevice
        check.standardError = FileHandle.nullDevice
        guard (try? check.run()) != nil else { throw XCTSkip("python3 is not available") }
        check.waitUntilExit()
        guard check.terminationStatus == 0 else { throw XCTSkip("python3 is not available") }

        let environment = try EnvironmentCommand(command: "python3 '\(RepositoryFiles.url(script).path)'", timeout: 30)
        defer { environment.stop() }
        let toolbox = try Toolbox(tools: [Calculator()], environment: environment)
        let episode = try toolbox.startEpisode(rollout: 5, row: JSONObject([("prompt", .array([])), ("secret", .int(7))]))
        XCTAssertEqual(episode.appendedText, " Find it with the guess tool.")
        XCTAssertEqual(episode.tools.count, 2)
        XCTAssertEqual(try toolbox.call("guess", arguments: ["number": 3], in: episode), ToolOutcome(text: "higher"))
        XCTAssertTrue(try toolbox.call("guess", arguments: ["number": "7"], in: episode).failed)
        XCTAssertEqual(try toolbox.call("guess", arguments: ["number": 7], in: episode), ToolOutcome(text: "correct", endsEpisode: true))
        // Two guesses count (the malformed call is not one): 1 - 0.1.
        XCTAssertEqual(try XCTUnwrap(try toolbox.reward(of: episode)), 0.9, accuracy: 1e-12)
    }
}
