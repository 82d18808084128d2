import Foundation

/// Rewards from a long-lived child process in any language (`reward_command`), started once with
/// `/bin/sh -c COMMAND` and kept for the whole run.
///
/// For each completion it receives one JSON object per line on its standard input — `prompt`,
/// `completion`, `completion_ids` and every other dataset column — and must answer, in order, one
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
    private let process = Process()
    private let input: FileHandle
    private let answers: LineQueue
    private let errors: OutputTail
    private var failure: RewardError?

    /// Starts the command; throws when the shell cannot be started.
    public init(command: String, timeout: TimeInterval = 60, name: String = "reward_command") throws {
        precondition(timeout > 0, "reward command timeout must be positive, got \(timeout)")
        self.command = command
        self.timeout = timeout
        self.name = name
        // Writing to a command that has exited must fail with an error, not end Fledge with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        do {
            try process.run()
        } catch {
            throw RewardError("reward_command `\(command)` could not be started: \(error)")
        }
        input = stdin.fileHandleForWriting
        answers = LineQueue(reading: stdout.fileHandleForReading)
        errors = OutputTail(reading: stderr.fileHandleForReading)
    }

    deinit { stop() }

    public func score(_ samples: [RewardSample]) throws -> [Double?] {
        if let failure { throw RewardError("reward_command stopped after an earlier error: \(failure.message)") }
        try refuseExtraAnswers(after: "the previous batch")
        let lines = samples.map(Self.requestLine)
        let payload = Data(lines.map { $0 + "\n" }.joined().utf8)
        let input = input
        // A separate writer, so that a command that stops reading cannot block Fledge past the timeout.
        Thread { try? input.write(contentsOf: payload) }.start()

        var rewards: [Double?] = []
        while rewards.count < samples.count {
            let number = rewards.count + 1
            switch answers.next(timeout: timeout) {
            case .line(let text):
                let answer = text.trimmingCharacters(in: .whitespacesAndNewlines)
                if answer.isEmpty { continue }
                guard let reward = Self.reward(in: answer) else {
                    throw fail("answered line \(number) of \(samples.count) with `\(Self.excerpt(answer))`, which is not "
                        + "a JSON object {\"reward\": number or null}; the line it answered: \(Self.excerpt(lines[number - 1]))")
                }
                rewards.append(reward)
            case .end:
                throw fail("\(exitDescription()) after answering \(number - 1) of \(samples.count) lines; "
                    + "unanswered line \(number): \(Self.excerpt(lines[number - 1]))\(stderrTail(waiting: 1))")
            case .timeout:
                throw fail("gave no answer within \(Self.seconds(timeout)) to line \(number) of \(samples.count): "
                    + "\(Self.excerpt(lines[number - 1])); make it answer every line and flush its output "
                    + "(e.g. print(..., flush=True)), or raise reward_command_timeout\(stderrTail(waiting: 0))")
            }
        }
        try refuseExtraAnswers(after: "this batch")
        return rewards
    }

    /// Throws when the command has written answer lines beyond the one per line it was sent: they
    /// would be taken as the rewards of later completions, misaligning every reward after them.
    private func refuseExtraAnswers(after batch: String) throws {
        let extra = answers.takeArrived()
        guard let first = extra.first else { return }
        throw fail("answered more lines than it was sent: after every line of \(batch) had its answer it wrote "
            + "\(extra.count) more, the first `\(Self.excerpt(first))`; it must write exactly one answer line per request line")
    }

    /// Closes the command's input (a well-behaved command exits on end of input) and stops it if it
    /// is still running a moment later.
    public func stop() {
        try? input.close()
        if process.isRunning && !waitForExit(seconds: 2) { terminate() }
    }

    /// Records the failure, stops the command at once and returns the error to throw.
    private func fail(_ text: String) -> RewardError {
        let error = RewardError("reward_command `\(command)` \(text)")
        failure = error
        try? input.close()
        if process.isRunning { terminate() }
        return error
    }

    /// SIGTERM, then SIGKILL a second later, to the command and its process group (Foundation starts
    /// it in a group of its own on Linux), so that programs the shell started stop too.
    private func terminate() {
        let pid = process.processIdentifier
        for signal in [SIGTERM, SIGKILL] where process.isRunning {
            kill(-pid, signal)
            kill(pid, signal)
            if waitForExit(seconds: 1) { return }
        }
    }

    private func waitForExit(seconds: TimeInterval) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        return !process.isRunning
    }

    private func exitDescription() -> String {
        guard waitForExit(seconds: 1) else { return "closed its output" }
        switch process.terminationReason {
        case .exit: return "exited with status \(process.terminationStatus)"
        case .uncaughtSignal: return "was killed by signal \(process.terminationStatus)"
        @unknown default: return "stopped"
        }
    }

    /// The command's last error output, waiting up to `seconds` for it to end (once it has exited).
    private func stderrTail(waiting seconds: TimeInterval) -> String {
        let lines = errors.lines(waiting: seconds)
        return lines.isEmpty ? "" : "; its last error output:\n" + lines.joined(separator: "\n")
    }

    /// The JSON line a sample is sent as.
    static func requestLine(_ sample: RewardSample) -> String {
        var fields: [(String, JSONValue)] = [
            ("prompt", sample.prompt), ("completion", .string(sample.completion)),
            ("completion_ids", .array(sample.completionIds.map { .int($0) })),
        ]
        fields += sample.columns.entries.filter { !["prompt", "completion", "completion_ids"].contains($0.key) }
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

    private static func excerpt(_ text: String, limit: Int = 300) -> String {
        text.count <= limit ? text : text.prefix(limit) + "…"
    }

    private static func seconds(_ value: TimeInterval) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}
