import Foundation
import XCTest
@testable import FledgeRL

/// Rows that wait for a tool do not stall the others (``EpisodeRunner``, ``ToolCallQueue``): a row's tool calls run
/// while the model goes on with the other rows, and what every row generates is the same however long tools take.
final class ConcurrentToolCallTests: XCTestCase {
    /// A tool whose calls wait until the test opens its gate (or a minute passes, which the test counts as a failure).
    private final class GatedTool: Tool, @unchecked Sendable {
        let name: String
        private let gate = DispatchSemaphore(value: 0)
        private let lock = NSLock()
        private var opened = false
        private(set) var timedOut = false

        init(name: String, open: Bool) {
            self.name = name
            opened = open
        }

        var definition: JSONValue { Self.definition(name) }

        static func definition(_ name: String) -> JSONValue {
            .object(JSONObject([("type", "function"), ("function", .object(JSONObject([
                ("name", .string(name)), ("parameters", .object(JSONObject([("type", "object"), ("properties", .object(JSONObject()))]))),
            ])))]))
        }

        func open() {
            lock.lock()
            defer { lock.unlock() }
            if !opened {
                opened = true
                gate.signal()
            }
        }

        func call(arguments: JSONValue) throws -> ToolOutcome {
            lock.lock()
            let isOpen = opened
            lock.unlock()
            if !isOpen && gate.wait(timeout: .now() + 60) == .timedOut { timedOut = true }
            return ToolOutcome(text: "\(name) done")
        }
    }

    /// An instant tool.
    private struct Echo: Tool {
        let name = "echo"
        var definition: JSONValue { GatedTool.definition(name) }
        func call(arguments: JSONValue) throws -> ToolOutcome { ToolOutcome(text: "echoed") }
    }

    private func call(_ name: String) -> String {
        "<tool_call>\n{\"name\": \"\(name)\", \"arguments\": {}}\n</tool_call><|im_end|>"
    }

    /// Runs four scripted episodes — row 0 calls the gated tool once, rows 1–3 call `echo` twice — and returns the
    /// results with the (row, turn) of each turn in the order the model was asked for them. The gate opens when row 1
    /// asks for its third turn (two tool round trips after row 0's call started), unless it is open from the start.
    private func runScripted(gateOpen: Bool, rows: [Int] = [0, 1, 2, 3]) throws
        -> (results: [EpisodeRunner.Result], asked: [[Int]], gate: GatedTool) {
        let tokenizer = try Tokenizer(directory: fixtureURL("tool_episodes/model").path)
        let gate = GatedTool(name: "gated", open: gateOpen)
        let toolbox = try Toolbox(tools: [gate, Echo()])
        let template = try XCTUnwrap(tokenizer.config.chatTemplates["default"])
        let runner = EpisodeRunner(toolbox: toolbox, tokenizer: tokenizer,
                                   parser: ResponseParser(format: try XCTUnwrap(ResponseFormat.detect(chatTemplate: template)),
                                                          tokenizer: tokenizer, chatTemplate: template),
                                   maxCompletionLength: 256, maxToolCallingIterations: nil, maxModelLength: 1024)
        let script = [[call("gated"), "Row 0 is done.<|im_end|>"]]
            + (1...3).map { row in [call("echo"), call("echo"), "Row \(row) is done.<|im_end|>"] }
        let turns = rows.map { script[$0].map { tokenizer.encode($0) } }
        let messages: [JSONValue] = [.object(JSONObject([("role", "user"), ("content", "Go.")]))]
        var episodes: [Episode] = [], promptIds: [[Int]] = []
        for row in rows {
            let episode = try toolbox.startEpisode(rollout: row, row: JSONObject([("prompt", .array(messages))]))
            episodes.append(episode)
            promptIds.append(try runner.promptIds(messages, episode: episode))
        }
        var asked: [[Int]] = []
        let results = try runner.run(promptIds: promptIds, episodes: episodes) { requests, _ in
            for request in requests {
                asked.append([rows[request.row], request.turn])
                if rows[request.row] == 1 && request.turn == 2 { gate.open() }
            }
            return requests.map { turns[$0.row][$0.turn] }
        }
        return (results, asked, gate)
    }

    func testOtherRowsTakeTurnsWhileACallIsPending() throws {
        let (results, asked, gate) = try runScripted(gateOpen: false)
        XCTAssertFalse(gate.timedOut, "row 0's call was not released by row 1's third turn: the other rows waited for it")
        // Row 0's second turn comes after rows 1–3's second turns and row 1's third, all asked while row 0's call was
        // outstanding (it started when row 0's first turn ended and could not answer before the gate opened).
        let rowZeroContinues = try XCTUnwrap(asked.firstIndex(of: [0, 1]), "\(asked)")
        for turn in [[1, 1], [2, 1], [3, 1], [1, 2]] {
            XCTAssertLessThan(try XCTUnwrap(asked.firstIndex(of: turn), "\(asked)"), rowZeroContinues, "\(asked)")
        }
        XCTAssertEqual(results.map(\.toolCalls), [1, 2, 2, 2])
        XCTAssertEqual(results.map(\.toolFailures), [0, 0, 0, 0])
        XCTAssertEqual(results.map { $0.messages.count }, [3, 5, 5, 5])

        // The same episodes as with an instant tool, and as each row run alone.
        let instant = try runScripted(gateOpen: true)
        for (row, result) in results.enumerated() {
            let alone = try runScripted(gateOpen: true, rows: [row]).results[0]
            for other in [instant.results[row], alone] {
                XCTAssertEqual(result.completionIds, other.completionIds, "row \(row)")
                XCTAssertEqual(result.modelTokens, other.modelTokens, "row \(row)")
                XCTAssertEqual(result.messages, other.messages, "row \(row)")
                XCTAssertEqual(result.toolCalls, other.toolCalls, "row \(row)")
            }
        }
    }

    /// The calculator of an environment whose calls sleep first, for 15, 30 or 45 ms by rollout, so that they answer
    /// out of row order.
    private final class SleepyCalculator: Environment, @unchecked Sendable {
        let sleeps: Bool
        private let lock = NSLock()
        private(set) var calls = 0

        init(sleeps: Bool) { self.sleeps = sleeps }

        func reset(rollout: Int, row: JSONObject) throws -> EpisodeStart { EpisodeStart(tools: [Calculator().definition]) }

        func call(rollout: Int, name: String, arguments: JSONValue) throws -> ToolOutcome {
            lock.lock()
            calls += 1
            lock.unlock()
            if sleeps { Thread.sleep(forTimeInterval: 0.015 * Double(3 - rollout % 3)) }
            return try Calculator().call(arguments: arguments)
        }

        func reward(rollout: Int) throws -> Double? { nil }
    }

    /// On the shipped agent model (which calls the calculator), sampled as GRPO samples: rows whose tools sleep
    /// generate the tokens they generate with an instant tool and when run alone.
    func testSlowToolsChangeNoRowsTokens() throws {
        let directory = AgentDemoTests.shippedModel
        let model = try LanguageModel(directory: directory)
        let tokenizer = try Tokenizer(directory: directory.path)
        let problems = AgentDemoModel.task.problems(count: 32, seed: 11)
        let rows = try problems.map { try $0.chatRow(tokenizer: tokenizer) }
        var options = SamplingOptions(model.generationConfig)
        options.greedy = false
        options.temperature = 1
        options.seed = 3407
        options.maxNewTokens = 48
        func episodes(sleeping: Bool, numbers: [Int]) throws -> (rows: [AgentRollouts.Row], environment: SleepyCalculator) {
            let environment = SleepyCalculator(sleeps: sleeping)
            let rollouts = try AgentRollouts(toolbox: try Toolbox(tools: [], environment: environment), tokenizer: tokenizer,
                                             maxCompletionLength: 48, maxToolCallingIterations: 2,
                                             maxModelLength: model.config.maxPositionEmbeddings, environmentReward: nil)
            return (try rollouts.generate(numbers.map { rows[$0] }, rowNumbers: numbers, options: options, model: model), environment)
        }
        let slow = try episodes(sleeping: true, numbers: Array(rows.indices))
        XCTAssertGreaterThanOrEqual(slow.environment.calls, 2, "fewer than two rows called the calculator")
        let instant = try episodes(sleeping: false, numbers: Array(rows.indices)).rows
        for (number, row) in slow.rows.enumerated() {
            let alone = try episodes(sleeping: false, numbers: [number]).rows[0]
            for (name, other) in [("instant", instant[number]), ("alone", alone)] {
                XCTAssertEqual(row.completionIds, other.completionIds, "row \(number) vs \(name)")
                XCTAssertEqual(row.modelTokens, other.modelTokens, "row \(number) vs \(name)")
                XCTAssertEqual(row.toolCalls, other.toolCalls, "row \(number) vs \(name)")
            }
        }
    }
}
