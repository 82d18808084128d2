import Foundation

/// A request-and-answer conversation in JSON lines with a long-lived command (`environment_command`, a tool
/// command): each request is one JSON object on a line, each answer one JSON object on a line, in order. A request
/// for a rollout carries `"rollout": ID`, and its answer must carry the same id.
///
/// A command that exits, answers something that is not a JSON object, answers for another rollout, answers more
/// lines than it was asked, or takes longer than `timeout` seconds stops the run with an `AgentError` naming the
/// setting, the command and the request line; the command is stopped then, and every later request fails with the
/// same error.
final class JSONLinesSession {
    /// The setting that started the command, for messages (`environment_command`).
    let setting: String
    let command: String
    let timeout: TimeInterval
    private let process: CommandProcess
    private var failure: AgentError?
    private var requests = 0

    init(setting: String, command: String, timeout: TimeInterval) throws {
        guard timeout > 0 else { throw AgentError("\(setting) timeout is \(timeout); set a positive number of seconds") }
        self.setting = setting
        self.command = command
        self.timeout = timeout
        do {
            process = try CommandProcess(command: command)
        } catch {
            throw AgentError("\(setting) `\(command)` could not be started: \(error)")
        }
    }

    /// Sends `request` and returns its answer.
    func ask(_ request: JSONObject) throws -> JSONObject {
        if let failure { throw AgentError("\(setting) stopped after an earlier error: \(failure.message)") }
        let extra = process.takeArrivedAnswers()
        if let first = extra.first {
            throw fail("answered more lines than it was asked: after its answer to request \(requests) it wrote "
                + "\(extra.count) more, the first `\(CommandProcess.excerpt(first))`; it must write exactly one answer "
                + "line per request line")
        }
        requests += 1
        let line = JSONWriter().string(.object(request))
        process.send([line])
        switch process.nextAnswer(timeout: timeout) {
        case .line(let text):
            guard case .object(let answer)? = try? JSONParser.parse(text) else {
                throw fail("answered request \(requests) with `\(CommandProcess.excerpt(text))`, which is not a JSON "
                    + "object; the request: \(CommandProcess.excerpt(line))")
            }
            if let rollout = request["rollout"], answer["rollout"] != rollout {
                let given = answer["rollout"].map { "for rollout \(JSONWriter().string($0))" } ?? "without a \"rollout\" id"
                throw fail("answered request \(requests) \(given), but the request was for rollout "
                    + "\(JSONWriter().string(rollout)); each answer must echo its request's \"rollout\"; the request: "
                    + CommandProcess.excerpt(line))
            }
            return answer
        case .end:
            throw fail("\(process.exitDescription()) before answering request \(requests): "
                + "\(CommandProcess.excerpt(line))\(process.stderrTail(waiting: 1))")
        case .timeout:
            throw fail("gave no answer within \(CommandProcess.seconds(timeout)) to request \(requests): "
                + "\(CommandProcess.excerpt(line)); make it answer every line and flush its output (e.g. "
                + "print(..., flush=True)), or raise environment_command_timeout\(process.stderrTail(waiting: 0))")
        }
    }

    /// An error about the answer to `request` (a field of the wrong type), which stops the command like the others.
    func malformed(_ answer: JSONObject, _ problem: String) -> AgentError {
        fail("answered request \(requests) with `\(CommandProcess.excerpt(JSONWriter().string(.object(answer))))`: \(problem)")
    }

    /// Closes the command's input and stops it if it does not exit.
    func stop() { process.stop() }

    private func fail(_ text: String) -> AgentError {
        let error = AgentError("\(setting) `\(command)` \(text)")
        failure = error
        process.kill()
        return error
    }
}
