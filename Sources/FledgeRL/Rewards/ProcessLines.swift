import Foundation

/// Reads `handle` to its end on a background thread, handing each line (without its newline) to
/// `body`, then calls `end`.
func readLines(from handle: FileHandle, _ body: @escaping @Sendable (String) -> Void,
               end: @escaping @Sendable () -> Void) {
    let thread = Thread {
        var pending = Data()
        while true {
            // availableData returns what the pipe holds as soon as it holds something
            // (read(upToCount:) would wait for the whole count).
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            pending.append(chunk)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                body(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                pending.removeSubrange(pending.startIndex...newline)
            }
        }
        if !pending.isEmpty { body(String(decoding: pending, as: UTF8.self)) }
        end()
    }
    thread.start()
}

/// The lines a child process writes to its standard output, waited for one at a time.
final class LineQueue: @unchecked Sendable {
    /// What waiting for the next line found.
    enum Next: Equatable {
        case line(String)
        case end
        case timeout
    }

    private let condition = NSCondition()
    private var lines: [String] = []
    private var finished = false

    init(reading handle: FileHandle) {
        readLines(from: handle, { [self] line in
            condition.withLock {
                lines.append(line)
                condition.signal()
            }
        }, end: { [self] in
            condition.withLock {
                finished = true
                condition.signal()
            }
        })
    }

    /// The next line, waiting at most `timeout` seconds for it.
    func next(timeout: TimeInterval) -> Next {
        let deadline = Date(timeIntervalSinceNow: timeout)
        return condition.withLock {
            while lines.isEmpty && !finished {
                if !condition.wait(until: deadline) { return lines.isEmpty ? .timeout : .line(lines.removeFirst()) }
            }
            return lines.isEmpty ? .end : .line(lines.removeFirst())
        }
    }
}

/// A child process's standard error: passed on to ours as it arrives, the last lines kept for
/// error messages.
final class OutputTail: @unchecked Sendable {
    private let condition = NSCondition()
    private var recent: [String] = []
    private var finished = false

    init(reading handle: FileHandle, keep: Int = 20) {
        readLines(from: handle, { [self] line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
            condition.withLock {
                recent.append(line)
                if recent.count > keep { recent.removeFirst(recent.count - keep) }
            }
        }, end: { [self] in
            condition.withLock {
                finished = true
                condition.broadcast()
            }
        })
    }

    /// The last lines written, once the output has ended or `timeout` seconds have passed.
    func lines(waiting timeout: TimeInterval) -> [String] {
        let deadline = Date(timeIntervalSinceNow: timeout)
        return condition.withLock {
            while !finished && condition.wait(until: deadline) {}
            return recent
        }
    }
}
