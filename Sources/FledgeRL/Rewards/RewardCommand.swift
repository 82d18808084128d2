import Foundation

/// Rewards from a long-lived child process in any language (`reward_command`), started once with
/// `/bin/sh -c COMMAND` and kept for the whole run.
///
/// For each completion it receives one JSON object per line on its standard input — `prompt`,
/// `completion`, `completion_ids`, for a multi-turn episode `completion_messages` (its assistant
/// turns and tool results), and every other dataset column — and must answer, in order, one
/// line `{"reward": number}` or `{"reward": null}` (no value for this completion), flushing its
/// output after each line. Its standard error passes through to Fledge's.
///
/// A command that exits, answers something else, answers more lines than it was sent, or takes
/// longer than `timeout` seconds for a line stops the run with a `RewardError` naming the command
/// and the line; the process is stopped then and every later batch fails with the same error.
public final class RewardCommand: RewardFunction {
    public let name: String
    /// The shell command.
    public let command: String
    /// Seconds to wait for each answer line.
    public let timeout: TimeInterval
    private let process: CommandProcess
    private var failure: RewardError?

    /// Starts the command; throws when the shell cannot be started.
    public init(command: String, timeout: TimeInterval = 60, name: String = "reward_command") throws {
        precondition(timeout > 0, "reward command timeout must be positive, got \(timeout)")
        self.command = command
        self.timeout = timeout
        self.name = name
        do {
            process = try CommandProcess(command: command)
        } catch {
            throw RewardError("reward_command `\(command)` could not be started: \(error)")
        }
    }

    public func score(_ samples: [RewardSample]) throws -> [Double?] {
        if let failure { throw RewardError("reward_command stopped after an earlier error: \(failure.message)") }
        try refuseExtraAnswers(after: "the previous batch")
        let lines = samples.map(Self.requestLine)
        process.send(lines)

        var rewards: [Double?] = []
        while rewards.count < samples.count {
            let number = rewards.count + 1
            switch process.nextAnswer(timeout: timeout) {
            case .line(let text):
                let answer = text.trimmingCharacters(in: .whitespacesAndNewlines)
                guard let reward = Self.reward(in: answer) else {
                    throw fail("answered line \(number) of \(samples.count) with `\(CommandProcess.excerpt(answer))`, which is not "
                        + "a JSON object {\"reward\": number or null}; the line it answered: \(CommandProcess.excerpt(lines[number - 1]))")
                }
                rewards.append(reward)
            case .end:
                throw fail("\(process.exitDescription()) after answering \(number - 1) of \(samples.count) lines; "
                    + "unanswered line \(number): \(CommandProcess.excerpt(lines[number - 1]))\(process.stderrTail(waiting: 1))")
            case .timeout:
                throw fail("gave no answer within \(CommandProcess.seconds(timeout)) to line \(number) of \(samples.count): "
                    + "\(CommandProcess.excerpt(lines[number - 1])); make it answer every line and flush its output "
                    + "(e.g. print(..., flush=True)), or raise reward_command_timeout\(process.stderrTail(waiting: 0))")
            }
        }
        try refuseExtraAnswers(after: "this batch")
        return rewards
    }

    /// Throws when the command has written answer lines beyond the one per line it was sent: they
    /// would be taken as the rewards of later completions, misaligning every reward after them.
    private func refuseExtraAnswers(after batch: String) throws {
        let extra = process.takeArrivedAnswers()
        guard let first = extra.first else { return }
        throw fail("answered more lines than it was sent: after every line of \(batch) had its answer it wrote "
            + "\(extra.count) more, the first `\(CommandProcess.excerpt(first))`; it must write exactly one answer line per request line")
    }

    /// Closes the command's input (a well-behaved command exits on end of input) and stops it if it is still
    /// running a moment later.
    public func stop() { process.stop() }

    /// Records the failure, stops the command at once and returns the error to throw.
    private func fail(_ text: String) -> RewardError {
        let error = RewardError("reward_command `\(command)` \(text)")
        failure = error
        process.kill()
        return error
    }

    /// The JSON line a sample is sent as.
    static func requestLine(_ sample: RewardSample) -> String {
        var fields: [(String, JSONValue)] = [
            ("prompt", sample.prompt), ("completion", .string(sample.completion)),
            ("completion_ids", .array(sample.completionIds.map { .int($0) })),
        ]
        if let messages = sample.completionMessages { fields.append(("completion_messages", .array(messages))) }
        let sent = Set(fields.map(\.0))
        fields += sample.columns.entries.filter { !sent.contains($0.key) }
        return JSONWriter().string(.object(JSONObject(fields)))
    }

    /// The reward of an answer line, `.some(nil)` for `null`, nil when the line is malformed.
    static func reward(in line: String) -> Double?? {
        guard case .object(let object)? = try? JSONParser.parse(line), let value = object["reward"] else { return nil }
        switch value {
        case .null: return .some(nil)
        case .int(let number): return Double(number)
        case .double(let number): return number
        default: return nil
        }
    }
}
