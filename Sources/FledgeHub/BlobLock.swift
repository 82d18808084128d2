import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The lock file `huggingface_hub` takes (with `filelock`, an exclusive `flock`) while it downloads a
/// blob, so that two processes — Fledge or Python — never write the same blob at once.
enum BlobLock {
    /// Runs `body` holding an exclusive `flock` on `url`, waiting at most `timeout` seconds for it.
    static func holding(_ url: URL, timeout: TimeInterval, _ body: () throws(HubError) -> Void) throws(HubError) {
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw .cacheWrite(path: url.path, reason: "\(error)")
        }
        let descriptor = open(url.path, O_RDWR | O_CREAT, 0o644)
        guard descriptor >= 0 else { throw .cacheWrite(path: url.path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        let deadline = Date().addingTimeInterval(timeout)
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard Date() < deadline else { throw .lockTimeout(path: url.path, seconds: timeout) }
            usleep(100_000)
        }
        defer { flock(descriptor, LOCK_UN) }
        try body()
    }
}
