import Foundation
import XCTest
@testable import FledgeRL

/// `environment_command` and tool commands: one long-lived process each, JSON lines in and out, and clear errors —
/// naming the command and the request line — for a command that crashes, hangs, answers garbage or answers for
/// another rollout; failed tool calls and ended episodes are outcomes, not errors.
final class EnvironmentCommandTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-env-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// A shell script in the scratch directory, run as `sh SCRIPT`; `$rollout` holds each request's rollout id.
    private func command(_ body: String) throws -> String {
        let url = directory.appendingPathComponent("env-\(UUID().uuidString).sh")
        let script = """
            while IFS= read -r line; do
              rollout=$(printf '%s' "$line" | sed -n 's/.*"rollout": \\([0-9-]*\\).*/\\1/p')
            \(body)
            done
            """
        try script.write(to: url, atomically: true, encoding: .utf8)
        return "sh '\(url.path)'"
    }

    private let row = JSONObject([("prompt", "What is 2+2?"), ("answer", .int(4))])

    func testAnEnvironmentRunsWholeEpisodes() throws {
        let received = directory.appendingPathComponent("received.jsonl")
        let environment = try EnvironmentCommand(command: try command("""
              printf '%s\\n' "$line" >> '\(received.path)'
              case "$line" in
                *'"type": "reset"'*) echo "{\\"rollout\\": $rollout, \\"text\\": \\" Use the board.\\", \\"tools\\": [{\\"type\\": \\"function\\", \\"function\\": {\\"name\\": \\"move\\"}}]}" ;;
                *'"up"'*) echo "{\\"rollout\\": $rollout, \\"result\\": \\"moved up\\"}" ;;
                *'"left"'*) echo "{\\"rollout\\": $rollout, \\"error\\": \\"a wall is in the way\\"}" ;;
                *'"down"'*) echo "{\\"rollout\\": $rollout, \\"result\\": {\\"cell\\": 3}, \\"done\\": true}" ;;
                *'"type": "reward"'*) echo "{\\"rollout\\": $rollout, \\"reward\\": 0.5}" ;;
              esac
            """))
        let start = try environment.reset(rollout: 3, row: row)
        XCTAssertEqual(start.appendedText, " Use the board.")
        XCTAssertEqual(start.tools.count, 1)
        XCTAssertEqual(try environment.call(rollout: 3, name: "move", arguments: ["direction": "up"]),
                       ToolOutcome(text: "moved up"))
        XCTAssertEqual(try environment.call(rollout: 3, name: "move", arguments: ["direction": "left"]),
                       ToolOutcome(text: "{'error': 'a wall is in the way'}", failed: true))
        XCTAssertEqual(try environment.call(rollout: 3, name: "move", arguments: ["direction": "down"]),
                       ToolOutcome(text: #"{"cell": 3}"#, endsEpisode: true))
        XCTAssertEqual(try environment.reward(rollout: 3), 0.5)
        environment.stop()

        let lines = try String(contentsOf: received, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 5)
        XCTAssertEqual(lines[0], #"{"type": "reset", "rollout": 3, "row": {"prompt": "What is 2+2?", "answer": 4}}"#)
        XCTAssertEqual(lines[1], #"{"type": "call", "rollout": 3, "name": "move", "arguments": {"direction": "up"}}"#)
        XCTAssertEqual(lines[4], #"{"type": "reward", "rollout": 3}"#)
    }

    func testACrashNamesTheCommandTheRequestAndItsErrorOutput() throws {
        let script = try command("""
              case "$line" in
                *'"type": "reset"'*) echo "{\\"rollout\\": $rollout}" ;;
                *) echo 'boom: the board is gone' >&2; exit 3 ;;
              esac
            """)
        let environment = try EnvironmentCommand(command: script)
        XCTAssertEqual(try environment.reset(rollout: 0, row: row), EpisodeStart())
        XCTAssertThrowsError(try environment.call(rollout: 0, name: "move", arguments: [:])) { error in
            let text = "\(error)"
            XCTAssert(text.contains("environment_command `\(script)` exited with status 3 before answering request 2: "
                + #"{"type": "call", "rollout": 0, "name": "move", "arguments": {}}"#), text)
            XCTAssert(text.contains("boom: the board is gone"), text)
        }
        XCTAssertThrowsError(try environment.reward(rollout: 0)) { error in
            XCTAssert("\(error)".contains("environment_command stopped after an earlier error"), "\(error)")
        }
    }

    func testAHangTimesOutNamingTheRequest() throws {
        let script = try command("  sleep 30")
        let environment = try EnvironmentCommand(command: script, timeout: 0.5)
        XCTAssertThrowsError(try environment.reset(rollout: 1, row: row)) { error in
            let text = "\(error)"
            XCTAssert(text.contains("environment_command `\(script)` gave no answer within 0.5 s to request 1: "
                + #"{"type": "reset", "rollout": 1"#), text)
            XCTAssert(text.contains("flush"), text)
        }
    }

    func testAMalformedLineIsAnError() throws {
        let environment = try EnvironmentCommand(command: try command("  echo 'ready!'"))
        XCTAssertThrowsError(try environment.reset(rollout: 1, row: row)) { error in
            XCTAssert("\(error)".contains("answered request 1 with `ready!`, which is not a JSON object"), "\(error)")
        }
    }

    func testAnAnswerForAnotherRolloutIsAnError() throws {
        let environment = try EnvironmentCommand(command: try command(#"  echo '{"rollout": 9}'"#))
        XCTAssertThrowsError(try environment.reset(rollout: 3, row: row)) { error in
            XCTAssert("\(error)".contains("answered request 1 for rollout 9, but the request was for rollout 3"), "\(error)")
        }
        let silent = try EnvironmentCommand(command: try command(#"  echo '{"text": "hi"}'"#))
        XCTAssertThrowsError(try silent.reset(rollout: 3, row: row)) { error in
            XCTAssert("\(error)".contains(#"answered request 1 without a "rollout" id"#), "\(error)")
        }
    }

    func testAnswersWithWrongFieldsAreErrors() throws {
        let cases: [(String, String)] = [
            (#"{\"rollout\": $rollout, \"tools\": \"move\"}"#, "\"tools\" must be a list of tool definitions"),
            (#"{\"rollout\": $rollout, \"tools\": [{\"type\": \"function\"}]}"#, "has no name"),
            (#"{\"rollout\": $rollout, \"text\": 5}"#, "\"text\" must be a string or null"),
        ]
        for (answer, message) in cases {
            let environment = try EnvironmentCommand(command: try command("  echo \"\(answer)\""))
            XCTAssertThrowsError(try environment.reset(rollout: 2, row: row)) { error in
                XCTAssert("\(error)".contains(message), "\(error)")
            }
        }
        let both = try EnvironmentCommand(command: try command(#"  echo "{\"rollout\": $rollout, \"result\": 1, \"error\": \"x\"}""#))
        XCTAssertThrowsError(try both.call(rollout: 2, name: "move", arguments: [:])) { error in
            XCTAssert("\(error)".contains("either \"result\""), "\(error)")
        }
        let reward = try EnvironmentCommand(command: try command(#"  echo "{\"rollout\": $rollout, \"reward\": \"high\"}""#))
        XCTAssertThrowsError(try reward.reward(rollout: 2)) { error in
            XCTAssert("\(error)".contains("\"reward\": number or null"), "\(error)")
        }
    }

    func testExtraAnswerLinesAreAnError() throws {
        let environment = try EnvironmentCommand(command: try command(
            #"  echo "{\"rollout\": $rollout}"; echo "{\"rollout\": $rollout}""#))
        XCTAssertEqual(try environment.reset(rollout: 1, row: row), EpisodeStart())
        Thread.sleep(forTimeInterval: 0.3)
        XCTAssertThrowsError(try environment.reset(rollout: 2, row: row)) { error in
            XCTAssert("\(error)".contains("answered more lines than it was asked"), "\(error)")
        }
    }

    func testToolCommandsServeStatelessTools() throws {
        let script = try command("""
              case "$line" in
                *'"type": "tools"'*) echo '{"tools": [{"type": "function", "function": {"name": "echo"}}, {"type": "function", "function": {"name": "fail"}}]}' ;;
                *'"name": "echo"'*) echo '{"result": "echoed"}' ;;
                *) echo '{"error": "always fails"}' ;;
              esac
            """)
        let toolbox = try XCTUnwrap(Toolbox.make(tools: ["calculator", "command:\(script)"], environmentCommand: nil, timeout: 10))
        defer { toolbox.stop() }
        XCTAssertEqual(toolbox.tools.map(\.name), ["calculator", "echo", "fail"])
        let episode = try toolbox.startEpisode(rollout: 0, row: row)
        XCTAssertEqual(episode.tools.count, 3)
        XCTAssertEqual(try toolbox.call("echo", arguments: [:], in: episode), ToolOutcome(text: "echoed"))
        XCTAssertEqual(try toolbox.call("fail", arguments: [:], in: episode).failed, true)
        XCTAssertEqual(try toolbox.call("calculator", arguments: ["expression": "6*7"], in: episode), ToolOutcome(text: "42"))
        XCTAssertEqual(try toolbox.call("search", arguments: [:], in: episode),
                       ToolOutcome(text: "{'error': 'Tool search not found.'}", failed: true))
        XCTAssertNil(try toolbox.reward(of: episode))
    }

    func testToolboxSettingsThatCannotWork() throws {
        XCTAssertNil(try Toolbox.make(tools: [], environmentCommand: nil, timeout: 10))
        XCTAssertThrowsError(try Toolbox.make(tools: ["abacus"], environmentCommand: nil, timeout: 10)) { error in
            XCTAssert("\(error)".contains("tools entry 'abacus' is neither a built-in tool (calculator) nor a command"), "\(error)")
        }
        XCTAssertThrowsError(try Toolbox(tools: [Calculator(), Calculator()])) { error in
            XCTAssert("\(error)".contains("two tools are named 'calculator'"), "\(error)")
        }
        let clash = try command(#"  echo "{\"rollout\": $rollout, \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"calculator\"}}]}""#)
        let toolbox = try XCTUnwrap(Toolbox.make(tools: ["calculator"], environmentCommand: clash, timeout: 10))
        defer { toolbox.stop() }
        XCTAssertThrowsError(try toolbox.startEpisode(rollout: 4, row: row)) { error in
            XCTAssert("\(error)".contains("gave rollout 4 a tool named 'calculator'"), "\(error)")
        }
    }
}
