import Foundation
import XCTest
@testable import FledgeRL

/// Tool calls run while the model decodes the rest of their turn (``EpisodeRunner``, ``ToolCallQueue``), and the
/// batches of turns the model is asked for are fixed by the tokens, whenever and in whatever order tools answer.
final class ConcurrentToolCallTests: XCTestCase {
    /// A tool whose calls report that they started, then wait until the test opens its gate (or a minute passes, which
    /// the test counts as a failure), then report that they answered.
    private final class GatedTool: Tool, @unchecked Sendable {
        let name = "gated"
        let started = DispatchSemaphore(value: 0)
        let answered = DispatchSemaphore(value: 0)
        private let gate = DispatchSemaphore(value: 0)
        private(set) var timedOut = false

        var definition: JSONValue { Self.definition(name) }

        static func definition(_ name: String) -> JSONValue {
            .object(JSONObject([("type", "function"), ("function", .object(JSONObject([
                ("name", .string(name)), ("parameters", .object(JSONObject([("type", "object"), ("properties", .object(JSONObject()))]))),
            ])))]))
        }

        func open() { gate.signal() }

        func call(arguments: JSONValue) throws -> ToolOutcome {
            started.signal()
            if gate.wait(timeout: .now() + 60) == .timedOut { timedOut = true }
            defer { answered.signal() }
            return ToolOutcome(text: "gated done")
        }
    }

    /// An instant tool.
    private struct Echo: Tool {
        let name = "echo"
        var definition: JSONValue { GatedTool.definition(name) }
        func call(arguments: JSONValue) throws -> ToolOutcome { ToolOutcome(text: "echoed") }
    }

    private func call(_ name: String, _ arguments: String = "{}") -> String {
        "<tool_call>\n{\"name\": \"\(name)\", \"arguments\": \(arguments)}\n</tool_call><|im_end|>"
    }

    /// One batch of turns the model was asked for: each request's row and turn.
    private typealias Batch = [[Int]]

    /// Runs scripted episodes — row `r` replies `script[r][t]` to its turn `t` — with `toolbox`, generating with
    /// `generate` (given the scripted replies); returns the results and the requests of each batch.
    private func runScripted(_ script: [[String]], toolbox: Toolbox,
                             generate: @escaping ([EpisodeRunner.TurnRequest], [[Int]], (Int, [Int]) -> Void) -> Void = { _, _, _ in })
        throws -> (results: [EpisodeRunner.Result], batches: [[EpisodeRunner.TurnRequest]]) {
        let tokenizer = try Tokenizer(directory: fixtureURL("tool_episodes/model").path)
        let template = try XCTUnwrap(tokenizer.config.chatTemplates["default"])
        let runner = EpisodeRunner(toolbox: toolbox, tokenizer: tokenizer,
                                   parser: ResponseParser(format: try XCTUnwrap(ResponseFormat.detect(chatTemplate: template)),
                                                          tokenizer: tokenizer, chatTemplate: template),
                                   maxCompletionLength: 512, maxToolCallingIterations: nil, maxModelLength: 2048)
        let turns = script.map { $0.map { tokenizer.encode($0) } }
        let messages: [JSONValue] = [.object(JSONObject([("role", "user"), ("content", "Go.")]))]
        var episodes: [Episode] = [], promptIds: [[Int]] = []
        for row in script.indices {
            let episode = try toolbox.startEpisode(rollout: row, row: JSONObject([("prompt", .array(messages))]))
            episodes.append(episode)
            promptIds.append(try runner.promptIds(messages, episode: episode))
        }
        var batches: [[EpisodeRunner.TurnRequest]] = []
        let results = try runner.run(promptIds: promptIds, episodes: episodes) { requests, replied in
            batches.append(requests)
            let replies = requests.map { turns[$0.row][$0.turn] }
            generate(requests, replies, replied)
            return replies
        }
        return (results, batches)
    }

    /// Row 0's call runs — starts and answers — while the model is still generating the turn that made it (the other
    /// rows' first turns); the next batch is every row's second turn, the one after it rows 1–3's third.
    func testToolCallsRunWhileTheirTurnDecodes() throws {
        let gate = GatedTool()
        let script = [[call("gated"), "Row 0 is done.<|im_end|>"]]
            + (1...3).map { row in [call("echo"), call("echo"), "Row \(row) is done.<|im_end|>"] }
        var startedInTurn = false, answeredInTurn = false
        let (results, batches) = try runScripted(script, toolbox: try Toolbox(tools: [gate, Echo()])) { requests, replies, replied in
            guard let index = requests.firstIndex(where: { $0.row == 0 && $0.turn == 0 }) else { return }
            replied(index, replies[index])
            startedInTurn = gate.started.wait(timeout: .now() + 60) == .success
            gate.open()
            answeredInTurn = gate.answered.wait(timeout: .now() + 60) == .success
        }
        XCTAssert(startedInTurn, "row 0's call did not start while its turn was being generated")
        XCTAssert(answeredInTurn, "row 0's call did not answer while its turn was being generated")
        XCTAssertFalse(gate.timedOut)
        XCTAssertEqual(batches.map { $0.map { [$0.row, $0.turn] } },
                       [[[0, 0], [1, 0], [2, 0], [3, 0]], [[0, 1], [1, 1], [2, 1], [3, 1]], [[1, 2], [2, 2], [3, 2]]])
        XCTAssertEqual(results.map(\.toolCalls), [1, 2, 2, 2])
        XCTAssertEqual(results.map(\.toolFailures), [0, 0, 0, 0])
        XCTAssertEqual(results.map { $0.messages.count }, [3, 5, 5, 5])
    }

    /// Six rows making 2, 0, 1, 3, 1 and 2 calculator calls, with calls that sleep in four patterns (none, the early
    /// rollouts slowest, the late ones slowest, scattered): the same batches of turns, with the same contexts and
    /// budgets, and the same episodes every time — batch `t` is turn `t` of every row still going.
    func testBatchesOfTurnsDoNotDependOnToolTiming() throws {
        let calculation = call("calculator", #"{"expression": "6*7"}"#)
        let callCounts = [2, 0, 1, 3, 1, 2]
        let script = callCounts.enumerated().map { row, calls in
            Array(repeating: calculation, count: calls) + ["Row \(row): 42.<|im_end|>"]
        }
        var runs: [(name: String, results: [EpisodeRunner.Result], batches: [[EpisodeRunner.TurnRequest]])] = []
        for pattern in DelayedCalculator.patterns {
            let environment = DelayedCalculator(delay: pattern.delay)
            let run = try runScripted(script, toolbox: try Toolbox(tools: [], environment: environment))
            XCTAssertEqual(environment.calls, callCounts.reduce(0, +), pattern.name)
            runs.append((pattern.name, run.results, run.batches))
        }
        let expected = (0...3).map { turn in callCounts.indices.filter { callCounts[$0] >= turn }.map { [$0, turn] } }
        let first = runs[0]
        XCTAssertEqual(first.batches.map { $0.map { [$0.row, $0.turn] } }, expected)
        XCTAssertEqual(first.results.map(\.toolCalls), callCounts)
        for run in runs.dropFirst() {
            XCTAssertEqual(run.batches, first.batches, "\(run.name) vs \(first.name)")
            for (row, result) in run.results.enumerated() {
                XCTAssertEqual(result.completionIds, first.results[row].completionIds, "\(run.name), row \(row)")
                XCTAssertEqual(result.modelTokens, first.results[row].modelTokens, "\(run.name), row \(row)")
                XCTAssertEqual(result.messages, first.results[row].messages, "\(run.name), row \(row)")
            }
        }
    }
}
