import Foundation
import FledgeLM

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading and durably writing the small files of a checkpoint.
enum CheckpointFiles {
    /// Parses a JSON file; errors name the file.
    static func readJSON(_ url: URL) throws(TrainingError) -> JSONValue {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw .checkpoint(path: url.path, problem: "the file is missing or unreadable; the checkpoint is incomplete")
        }
        do {
            return try JSONParser.parse([UInt8](data))
        } catch {
            throw .checkpoint(path: url.path, problem: "not valid JSON: \(error)")
        }
    }

    /// Writes `value` as indented JSON.
    static func writeJSON(_ value: JSONValue, to url: URL) throws {
        try (JSONWriter(indent: 2).string(value) + "\n").write(to: url, atomically: false, encoding: .utf8)
    }

    /// Flushes a file or a directory (its entries) to the disk.
    static func synchronize(_ url: URL) throws {
        let descriptor = open(url.path, O_RDONLY)
        guard descriptor >= 0 else {
            throw TrainingError.checkpoint(path: url.path, problem: "cannot open to flush: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else {
            throw TrainingError.checkpoint(path: url.path, problem: "cannot flush to disk: \(String(cString: strerror(errno)))")
        }
    }

    /// Flushes every file under `directory`, then the directory itself.
    static func synchronizeTree(_ directory: URL) throws {
        let files = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)?.allObjects as? [URL] ?? []
        for file in files { try synchronize(file) }
        try synchronize(directory)
    }
}
