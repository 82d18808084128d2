import Foundation

/// A long-lived child process in any language, started with `/bin/sh -c COMMAND` and spoken to in lines: what
/// `reward_command`, `environment_command` and tool commands share. Requests go to its standard input (from a
/// separate writer, so that a process that stops reading cannot block Fledge past a timeout); answers are read
/// from its standard output one line at a time; its standard error passes through to Fledge's, the last lines kept
/// for error messages.
final class CommandProcess {
    /// The shell command.
    let command: String
    private let process = Process()
    private let input: FileHandle
    private let answers: LineQueue
    private let errors: OutputTail

    /// Starts the command; throws the system's error when the shell cannot be started.
    init(command: String) throws {
        self.command = command
        // Writing to a command that has exited must fail with an error, not end Fledge with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        input = stdin.fileHandleForWriting
        answers = LineQueue(reading: stdout.fileHandleForReading)
        errors = OutputTail(reading: stderr.fileHandleForReading)
    }

    deinit { stop() }

    /// Sends `lines`, each followed by a newline, without waiting for the process to read them.
    func send(_ lines: [String]) {
        let payload = Data(lines.map { $0 + "\n" }.joined().utf8)
        let input = input
        Thread { try? input.write(contentsOf: payload) }.start()
    }

    /// The next non-blank answer line, waiting at most `timeout` seconds for it.
    func nextAnswer(timeout: TimeInterval) -> LineQueue.Next {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while true {
            let next = answers.next(timeout: max(0, deadline.timeIntervalSinceNow))
            if case .line(let text) = next, text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { continue }
            return next
        }
    }

    /// The non-blank answer lines that have arrived and not been taken, without waiting; they are taken.
    func takeArrivedAnswers() -> [String] { answers.takeArrived() }

    /// Closes the command's input (a well-behaved command exits on end of input) and stops it if it is still
    /// running a moment later.
    func stop() {
        try? input.close()
        if process.isRunning && !waitForExit(seconds: 2) { terminate() }
    }

    /// Closes the command's input and stops it at once (after an error).
    func kill() {
        try? input.close()
        if process.isRunning { terminate() }
    }

    /// SIGTERM, then SIGKILL a second later, to the command and its process group (Foundation starts it in a group
    /// of its own on Linux), so that programs the shell started stop too.
    private func terminate() {
        let pid = process.processIdentifier
        for signal in [SIGTERM, SIGKILL] where process.isRunning {
            Foundation.kill(-pid, signal)
            Foundation.kill(pid, signal)
            if waitForExit(seconds: 1) { return }
        }
    }

    private func waitForExit(seconds: TimeInterval) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        return !process.isRunning
    }

    /// How the command ended ("exited with status 3"), for a message about its output having ended.
    func exitDescription() -> String {
        guard waitForExit(seconds: 1) else { return "closed its output" }
        switch process.terminationReason {
        case .exit: return "exited with status \(process.terminationStatus)"
        case .uncaughtSignal: return "was killed by signal \(process.terminationStatus)"
        @unknown default: return "stopped"
        }
    }

    /// The command's last error output as a message suffix ("; its last error output:\n…"), waiting up to
    /// `seconds` for the output to end (once the command has exited); empty when it wrote none.
    func stderrTail(waiting seconds: TimeInterval) -> String {
        let lines = errors.lines(waiting: seconds)
        return lines.isEmpty ? "" : "; its last error output:\n" + lines.joined(separator: "\n")
    }

    /// `text` cut to `limit` characters, for messages.
    static func excerpt(_ text: String, limit: Int = 300) -> String {
        text.count <= limit ? text : text.prefix(limit) + "…"
    }

    /// Seconds for messages ("60 s", "0.5 s").
    static func seconds(_ value: TimeInterval) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}
