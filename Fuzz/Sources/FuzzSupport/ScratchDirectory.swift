import Foundation

/// A directory of this process's own, for targets whose parser reads files (as the real loaders do),
/// removed when the process exits normally.
public enum ScratchDirectory {
    /// `fledge-fuzz-<pid>` in the temporary directory.
    public static let url: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-fuzz-\(getpid())")
        try? FileManager.default.removeItem(at: url)
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: ScratchDirectory.url) }
        return url
    }()

    /// Writes `bytes` to `name` in the directory (replacing what was there) and returns its URL.
    @discardableResult
    public static func write(_ bytes: [UInt8], to name: String) -> URL {
        let file = url.appendingPathComponent(name)
        try! Data(bytes).write(to: file)
        return file
    }
}
