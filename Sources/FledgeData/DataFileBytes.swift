import Foundation

/// Reads a whole data file, with the errors every reader gives for a missing or unreadable file.
enum DataFileBytes {
    static func read(_ url: URL) throws(DatasetError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw DatasetError(file: url.path, FileManager.default.fileExists(atPath: url.path)
                ? "cannot read the file (permission denied or not a file)" : "no such file")
        }
        return [UInt8](data)
    }
}
