import Foundation
import XCTest
@testable import FledgeRL

/// `reward_command`: one long-lived process, one JSON line in and one out per completion, and clear
/// errors for a command that dies, answers garbage or hangs.
final class RewardCommandTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-reward-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// A shell script in the scratch directory, run as `sh SCRIPT`.
    private func command(_ script: String) throws -> String {
        let url = directory.appendingPathComponent("reward-\(UUID().uuidString).sh")
        try script.write(to: url, atomically: true, encoding: .utf8)
        return "sh '\(url.path)'"
    }

    private func samples(_ count: Int) -> [RewardSample] {
        (0..<count).map { index in
            RewardSample(prompt: .string("What is \(index) + 1?"), completion: "It is \(index + 1).\nDone",
                         completionIds: [index, 7], columns: JSONObject([("answer", .int(index + 1)), ("skip", .bool(index == 1))]))
        }
    }

    func testLongLivedCommandScoresEveryLine() throws {
        let received = directory.appendingPathComponent("received.jsonl")
        // Counts lines across batches (so it is one process), answers null for rows marked skip.
        let reward = try RewardCommand(command: try command("""
            n=0
            while IFS= read -r line; do
              n=$((n + 1))
              printf '%s\\n' "$line" >> '\(received.path)'
              case "$line" in
                *'"skip": true'*) echo '{"reward": null}' ;;
                *) echo "{\\"reward\\": $n.5}" ;;
              esac
            done
            """))
        XCTAssertEqual(try reward.score(samples(3)), [1.5, nil, 3.5])
        XCTAssertEqual(try reward.score(samples(2)), [4.5, nil])
        reward.stop()

        let lines = try String(contentsOf: received, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 5)
        XCTAssertEqual(String(lines[0]),
                       #"{"prompt": "What is 0 + 1?", "completion": "It is 1.\nDone", "completion_ids": [0, 7], "answer": 1, "skip": false}"#)
    }

    func testChatPromptsAreSentAsMessages() throws {
        let sample = RewardSample(prompt: .array([.object(JSONObject([("role", .string("user")), ("content", .string("Hi"))]))]),
                                  completion: "Hello", completionIds: [5], columns: JSONObject([("completion", .string("dropped"))]))
        XCTAssertEqual(RewardCommand.requestLine(sample),
                       #"{"prompt": [{"role": "user", "content": "Hi"}], "completion": "Hello", "completion_ids": [5]}"#)
    }

    /// A multi-turn episode's messages go as `completion_messages` (what TRL's reward functions get as the
    /// completion), before the dataset columns, and a column of that name is not sent twice.
    func testEpisodesSendTheirMessages() throws {
        let messages: [JSONValue] = [
            .object(JSONObject([("role", "assistant"), ("content", ""), ("tool_calls", .array([.object(JSONObject([
                ("type", "function"), ("function", .object(JSONObject([("name", "calculator"),
                                                                       ("arguments", .object(JSONObject([("expression", "6*7")])))]))),
            ]))]))])),
            .object(JSONObject([("role", "tool"), ("name", "calculator"), ("content", "42")])),
            .object(JSONObject([("role", "assistant"), ("content", "42")])),
        ]
        let sample = RewardSample(prompt: "6*7=", completion: "42", completionIds: [5, 6],
                                  columns: JSONObject([("answer", "42"), ("completion_messages", "dropped")]), completionMessages: messages)
        XCTAssertEqual(RewardCommand.requestLine(sample), #"{"prompt": "6*7=", "completion": "42", "completion_ids": [5, 6], "#
            + #""completion_messages": [{"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": "#
            + #"{"name": "calculator", "arguments": {"expression": "6*7"}}}]}, {"role": "tool", "name": "calculator", "#
            + #""content": "42"}, {"role": "assistant", "content": "42"}], "answer": "42"}"#)
    }

    func testACommandThatDiesNamesTheCommandAndTheLine() throws {
        let script = try command("""
            read -r line; echo '{"reward": 1}'
            read -r line; echo 'boom: cannot score' >&2; exit 3
            """)
        let reward = try RewardCommand(command: script)
        XCTAssertThrowsError(try reward.score(samples(3))) { error in
            let text = "\(error)"
            XCTAssert(text.contains("reward_command `\(script)` exited with status 3 after answering 1 of 3 lines"), text)
            XCTAssert(text.contains(#"unanswered line 2: {"prompt": "What is 1 + 1?""#), text)
            XCTAssert(text.contains("boom: cannot score"), text)
        }
        XCTAssertThrowsError(try reward.score(samples(1))) { error in
            XCTAssert("\(error)".contains("reward_command stopped after an earlier error"), "\(error)")
        }
    }

    func testMalformedAnswersAreErrors() throws {
        for (answer, shown) in [("oops", "oops"), (#"{"score": 1}"#, #"{"score": 1}"#), (#"{"reward": "high"}"#, #"{"reward": "high"}"#)] {
            let reward = try RewardCommand(command: try command("while read -r line; do echo '\(answer)'; done"))
            XCTAssertThrowsError(try reward.score(samples(2)), answer) { error in
                let text = "\(error)"
                XCTAssert(text.contains("answered line 1 of 2 with `\(shown)`, which is not a JSON object {\"reward\": number or null}"), text)
                XCTAssert(text.contains(#"the line it answered: {"prompt": "What is 0 + 1?""#), text)
            }
        }
    }

    func testACommandThatHangsTimesOut() throws {
        let reward = try RewardCommand(command: try command("read -r line; echo '{\"reward\": 0}'; exec sleep 30"), timeout: 0.5)
        let start = Date()
        XCTAssertThrowsError(try reward.score(samples(2))) { error in
            let text = "\(error)"
            XCTAssert(text.contains("gave no answer within 0.5 s to line 2 of 2"), text)
            XCTAssert(text.contains("flush its output"), text)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
    }

    /// Item 4 of the hardening issue: a command that answers more lines than it was sent would shift
    /// every later reward onto the wrong completion; it is a protocol error naming the command. The
    /// extra lines are found when they have arrived: at the end of the batch, or at the start of the
    /// next one (a line-based protocol cannot tell "more is coming" sooner), so the test scores a
    /// few batches, as a run would, pausing between them as generation does.
    func testACommandThatAnswersTooManyLinesIsAnError() throws {
        let script = try command(#"while IFS= read -r line; do echo '{"reward": 1}'; echo '{"reward": 2}'; done"#)
        let reward = try RewardCommand(command: script)
        var caught: Error?
        for _ in 0..<5 where caught == nil {
            do { _ = try reward.score(samples(2)) } catch { caught = error }
            Thread.sleep(forTimeInterval: 0.2)
        }
        let text = "\(try XCTUnwrap(caught, "two answers per line were accepted"))"
        XCTAssert(text.contains("reward_command `\(script)` answered more lines than it was sent"), text)
        XCTAssert(text.contains("exactly one answer line per request line"), text)
    }

    /// Item 13 of the hardening issue: one 10 MB line on the command's standard error is read in
    /// linear time and passed on cut, so the answer after it arrives well within the timeout.
    func testAHugeErrorLineDoesNotStallTheAnswers() throws {
        let reward = try RewardCommand(command: try command("""
            while IFS= read -r line; do
              head -c 10000000 /dev/zero | tr '\\0' x >&2; echo >&2
              echo '{"reward": 1}'
            done
            """), timeout: 30)
        XCTAssertEqual(try reward.score(samples(2)), [1, 1])
        reward.stop()
    }

    func testACommandThatCannotRunIsReportedAtTheFirstBatch() throws {
        let reward = try RewardCommand(command: "/nonexistent/score-rewards --fast")
        XCTAssertThrowsError(try reward.score(samples(1))) { error in
            let text = "\(error)"
            XCTAssert(text.contains("reward_command `/nonexistent/score-rewards --fast` exited with status 127"), text)
            XCTAssert(text.contains("not found"), text)
        }
    }
}
