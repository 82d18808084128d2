import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole files written so that a reader sees the old file or the new one, never half of one.
public enum AtomicFile {
    /// Writes `data` to `url` through a temporary sibling renamed into place. (Foundation's
    /// `Data.write(to:options: .atomic)` does the same on Linux but leaves an empty
    /// `TemporaryDirectory.*` folder in the temporary directory on every write.)
    public static func write(_ data: Data, to url: URL) throws {
        let output = try FileOutput(path: url.path)
        // A non-throwing closure: Swift 6.3's IR generation crashes on a typed-throws one here.
        let failure: SafeTensorsError? = data.withUnsafeBytes { bytes in
            do throws(SafeTensorsError) { try output.append(bytes) } catch { return error }
            return nil
        }
        if let failure { throw failure }
        try output.commit()
    }
}

/// Writes a file through a temporary sibling that replaces the destination only when
/// everything was written, so a crash or error never leaves a half-written file behind.
final class FileOutput {
    let path: String
    private let temporaryPath: String
    private let descriptor: Int32
    private var isOpen = true

    init(path: String) throws(SafeTensorsError) {
        self.path = path
        temporaryPath = path + ".partial-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw .io(file: path, reason: "cannot create the file: \(String(cString: strerror(errno))); check that the directory exists and is writable")
        }
    }

    /// Appends `bytes`.
    func append(_ bytes: UnsafeRawBufferPointer) throws(SafeTensorsError) {
        var remaining = bytes
        while let base = remaining.baseAddress, !remaining.isEmpty {
            let written = write(descriptor, base, remaining.count)
            if written < 0 {
                if errno == EINTR { continue }
                throw Self.failure(path, "cannot write the file")
            }
            remaining = UnsafeRawBufferPointer(rebasing: remaining[written...])
        }
    }

    /// Closes the file and moves it into place; call once, after the last `append`.
    func commit() throws(SafeTensorsError) {
        isOpen = false
        guard close(descriptor) == 0 else {
            let error = Self.failure(path, "cannot finish writing the file")
            unlink(temporaryPath)
            throw error
        }
        guard rename(temporaryPath, path) == 0 else {
            let error = Self.failure(path, "cannot move the written file into place")
            unlink(temporaryPath)
            throw error
        }
    }

    /// Discards the temporary file unless `commit()` ran.
    deinit {
        if isOpen {
            close(descriptor)
            unlink(temporaryPath)
        }
    }

    private static func failure(_ path: String, _ what: String) -> SafeTensorsError {
        .io(file: path, reason: "\(what): \(String(cString: strerror(errno)))")
    }
}
