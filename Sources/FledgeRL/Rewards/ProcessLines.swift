import Foundation

/// Reads `handle` to its end on a background thread, handing each line (without its newline) to
/// `body`, then calls `end`. Each byte is looked at once, so one huge line costs no more than many
/// short ones; a line longer than `maximumLineLength` bytes is handed on cut to that length, with a
/// note of its full length, so that a runaway process cannot exhaust memory.
func readLines(from handle: FileHandle, maximumLineLength: Int, _ body: @escaping @Sendable (String) -> Void,
               end: @escaping @Sendable () -> Void) {
    let thread = Thread {
        var line = LineBuffer(limit: maximumLineLength)
        while true {
            // availableData returns what the pipe holds as soon as it holds something
            // (read(upToCount:) would wait for the whole count).
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            chunk.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
                var start = 0
                while let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
                    line.append(UnsafeRawBufferPointer(rebasing: bytes[start..<newline]))
                    body(line.take())
                    start = newline + 1
                }
                line.append(UnsafeRawBufferPointer(rebasing: bytes[start...]))
            }
        }
        if !line.isEmpty { body(line.take()) }
        end()
    }
    thread.start()
}

/// The bytes of the line being read, kept up to a limit; bytes past it are counted, not kept.
private struct LineBuffer {
    let limit: Int
    private var bytes: [UInt8] = []
    private var length = 0

    init(limit: Int) { self.limit = limit }

    var isEmpty: Bool { length == 0 }

    mutating func append(_ part: UnsafeRawBufferPointer) {
        let room = max(0, limit - bytes.count)
        bytes.append(contentsOf: part.prefix(room))
        length += part.count
    }

    /// The line as text (cut, with a note, when it was longer than the limit), and a fresh start.
    mutating func take() -> String {
        var text = String(decoding: bytes, as: UTF8.self)
        if length > bytes.count { text += "… [line cut: \(length) bytes, at most \(limit) are kept]" }
        bytes.removeAll(keepingCapacity: true)
        length = 0
        return text
    }
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

    /// The longest answer line kept (a reward answer is a few bytes; longer lines are cut and then
    /// fail to parse as an answer).
    static let maximumLineLength = 1 << 20

    init(reading handle: FileHandle) {
        readLines(from: handle, maximumLineLength: Self.maximumLineLength, { [self] line in
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

    /// The non-empty lines that have arrived and not been taken, without waiting; they are taken.
    func takeArrived() -> [String] {
        condition.withLock {
            defer { lines.removeAll() }
            return lines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        }
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

    /// The longest error-output line passed on whole; longer ones are cut.
    static let maximumLineLength = 16 << 10

    init(reading handle: FileHandle, keep: Int = 20) {
        readLines(from: handle, maximumLineLength: Self.maximumLineLength, { [self] line in
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
