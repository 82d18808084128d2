import Foundation
import XCTest

/// Files of the repository itself (examples, docs, sources), found from this file's path, for tests
/// that check what users read and run.
enum RepositoryFiles {
    /// The repository root, above `Tests/FledgeRLTests/Documentation/`.
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A path relative to the root.
    static func url(_ relativePath: String) -> URL { root.appendingPathComponent(relativePath) }

    /// The path of `url` relative to the root, for messages.
    static func relativePath(_ url: URL) -> String {
        let base = root.standardizedFileURL.path + "/"
        let path = url.standardizedFileURL.path
        return path.hasPrefix(base) ? String(path.dropFirst(base.count)) : path
    }

    /// Every file under `relativeDirectory` whose name ends with `suffix`, sorted by path.
    static func files(under relativeDirectory: String, endingWith suffix: String) -> [URL] {
        guard let enumerator = FileManager.default.enumerator(
            at: url(relativeDirectory), includingPropertiesForKeys: [.isRegularFileKey])
        else { return [] }
        return enumerator.compactMap { $0 as? URL }
            .filter { $0.lastPathComponent.hasSuffix(suffix) }
            .sorted { $0.path < $1.path }
    }

    /// The text of a file, failing the test with its path when it cannot be read.
    static func text(_ url: URL, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        do {
            return try String(contentsOf: url, encoding: .utf8)
        } catch {
            XCTFail("cannot read \(relativePath(url)): \(error)", file: file, line: line)
            throw error
        }
    }
}
