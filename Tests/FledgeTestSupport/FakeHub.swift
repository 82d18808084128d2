import Foundation
import FledgeJSON

/// The Hub's endpoints as `huggingface_hub` uses them, over a few in-memory repositories, answered by a
/// `LocalHTTPServer`:
///
/// - `GET /api/{models|datasets}/ORG/NAME/revision/REV`: `{"id", "sha", "siblings": [{"rfilename"}]}`;
/// - `HEAD|GET /[datasets/]ORG/NAME/resolve/REV/FILE`: small files answered directly with a quoted
///   `ETag` (and `X-Repo-Commit`); large ones (`*.safetensors`, `*.parquet`, as in LFS) with a 302 to
///   `http://localhost:PORT/cdn/SHA` (another host, as the CDN is) carrying `X-Linked-Etag`, `X-Linked-Size` and `X-Repo-Commit`;
/// - `GET /cdn/SHA`, honouring `Range: bytes=N-` with a 206;
/// - 401 for a private repository without its token, 404 with `X-Error-Code` `RepoNotFound`,
///   `RevisionNotFound` or `EntryNotFound`.
public final class FakeHub: @unchecked Sendable {
    public struct Repo {
        public var refs: [String: String]
        public var commits: [String: [String: [UInt8]]]
        public var token: String?

        public init(refs: [String: String], commits: [String: [String: [UInt8]]], token: String? = nil) {
            self.refs = refs
            self.commits = commits
            self.token = token
        }
    }

    public init() {}

    private let lock = NSLock()
    private var repos: [String: Repo] = [:]
    private var dropNextCDNAfter: Int?

    /// Adds a repository (`key` is `models/ORG/NAME` or `datasets/ORG/NAME`).
    public func add(_ key: String, _ repo: Repo) {
        lock.lock()
        repos[key] = repo
        lock.unlock()
    }

    /// The next CDN download sends only `bytes` bytes of its body and closes the connection.
    public func dropNextDownload(after bytes: Int) {
        lock.lock()
        dropNextCDNAfter = bytes
        lock.unlock()
    }

    /// A deterministic hex digest of `hexDigits` digits standing for git's SHA-1 or LFS's SHA-256.
    public static func digest(_ bytes: [UInt8], hexDigits: Int) -> String {
        var text = ""
        var seed: UInt64 = 0xcbf2_9ce4_8422_2325
        while text.count < hexDigits {
            for byte in bytes { seed = (seed ^ UInt64(byte)) &* 0x100_0000_01b3 }
            seed = (seed ^ UInt64(text.count)) &* 0x100_0000_01b3
            text += String(format: "%016llx", seed)
        }
        return String(text.prefix(hexDigits))
    }

    public static func isLarge(_ file: String) -> Bool { file.hasSuffix(".safetensors") || file.hasSuffix(".parquet") }

    public func handle(_ request: LocalHTTPServer.Request) -> LocalHTTPServer.Response {
        lock.lock()
        defer { lock.unlock() }
        let path = request.path
        if path.hasPrefix("/cdn/") { return cdn(String(path.dropFirst(5)), request) }
        if path.hasPrefix("/api/") {
            let parts = path.dropFirst(5).components(separatedBy: "/revision/")
            guard parts.count == 2 else { return error(404, "RepoNotFound") }
            return revision(repoKey: parts[0], revision: parts[1].removingPercentEncoding ?? parts[1], request)
        }
        let kindAndRest = path.hasPrefix("/datasets/") ? ("datasets", String(path.dropFirst(10))) : ("models", String(path.dropFirst()))
        let parts = kindAndRest.1.components(separatedBy: "/resolve/")
        guard parts.count == 2, let slash = parts[1].firstIndex(of: "/") else { return error(404, "RepoNotFound") }
        let revision = String(parts[1][..<slash])
        let file = String(parts[1][parts[1].index(after: slash)...])
        return resolve(repoKey: kindAndRest.0 + "/" + parts[0], revision: revision.removingPercentEncoding ?? revision,
                       file: file.removingPercentEncoding ?? file, request)
    }

    private enum Lookup {
        case found(commit: String, files: [String: [UInt8]])
        case refused(LocalHTTPServer.Response)
    }

    /// The commit and files of the repository at `revision`, or the Hub's answer: 401 with
    /// `RepoNotFound` for a missing repository without a token (404 with one) and for a private one
    /// without its token, as the Hub hides private repositories; 404 `RevisionNotFound`.
    private func lookUp(_ key: String, revision: String, _ request: LocalHTTPServer.Request) -> Lookup {
        guard let repo = repos[key] else {
            return .refused(request.headers["authorization"] == nil
                ? error(401, "RepoNotFound", "Repository not found") : error(404, "RepoNotFound", "Repository not found"))
        }
        if let token = repo.token, request.headers["authorization"] != "Bearer \(token)" {
            return .refused(error(401, "RepoNotFound", "Invalid credentials in Authorization header"))
        }
        guard let commit = repo.commits[revision] != nil ? revision : repo.refs[revision], let files = repo.commits[commit] else {
            return .refused(error(404, "RevisionNotFound", "Invalid rev id: \(revision)"))
        }
        return .found(commit: commit, files: files)
    }

    private func revision(repoKey: String, revision: String, _ request: LocalHTTPServer.Request) -> LocalHTTPServer.Response {
        let (commit, files): (String, [String: [UInt8]])
        switch lookUp(repoKey, revision: revision, request) {
        case .found(let found, let listed): (commit, files) = (found, listed)
        case .refused(let response): return response
        }
        let id = repoKey.split(separator: "/", maxSplits: 1)[1]
        let siblings = files.keys.sorted().map { JSONValue.object(["rfilename": .string($0)]) }
        let body = JSONWriter().string(["id": .string(String(id)), "sha": .string(commit), "siblings": .array(siblings)])
        return LocalHTTPServer.Response(status: 200, headers: [("Content-Type", "application/json")], body: Array(body.utf8))
    }

    private func resolve(repoKey: String, revision: String, file: String, _ request: LocalHTTPServer.Request) -> LocalHTTPServer.Response {
        let (commit, files): (String, [String: [UInt8]])
        switch lookUp(repoKey, revision: revision, request) {
        case .found(let found, let listed): (commit, files) = (found, listed)
        case .refused(let response): return response
        }
        guard let bytes = files[file] else { return error(404, "EntryNotFound", "\(file) does not exist") }
        if FakeHub.isLarge(file) {
            let sha = FakeHub.digest(bytes, hexDigits: 64)
            let port = request.headers["host"]?.split(separator: ":").last.map(String.init) ?? "80"
            return LocalHTTPServer.Response(status: 302, headers: [
                ("Location", "http://localhost:\(port)/cdn/\(sha)"), ("ETag", "\"\(FakeHub.digest(Array(sha.utf8), hexDigits: 40))\""),
                ("X-Linked-Etag", "\"\(sha)\""), ("X-Linked-Size", "\(bytes.count)"), ("X-Repo-Commit", commit),
            ])
        }
        return LocalHTTPServer.Response(status: 200, headers: [
            ("ETag", "\"\(FakeHub.digest(bytes, hexDigits: 40))\""), ("X-Repo-Commit", commit),
        ], body: bytes)
    }

    private func cdn(_ sha: String, _ request: LocalHTTPServer.Request) -> LocalHTTPServer.Response {
        let all = repos.values.flatMap { $0.commits.values.flatMap(\.values) }
        guard let bytes = all.first(where: { FakeHub.digest($0, hexDigits: 64) == sha }) else { return error(404, "EntryNotFound") }
        var response = LocalHTTPServer.Response(status: 200, headers: [("ETag", "\"\(sha)\"")], body: bytes)
        if let range = request.headers["range"], range.hasPrefix("bytes="), range.hasSuffix("-"),
           let start = Int(range.dropFirst(6).dropLast()), start < bytes.count {
            response = LocalHTTPServer.Response(status: 206, headers: [
                ("ETag", "\"\(sha)\""), ("Content-Range", "bytes \(start)-\(bytes.count - 1)/\(bytes.count)"),
            ], body: Array(bytes[start...]))
        }
        if let drop = dropNextCDNAfter {
            response.dropAfter = drop
            dropNextCDNAfter = nil
        }
        return response
    }

    private func error(_ status: Int, _ code: String, _ message: String? = nil) -> LocalHTTPServer.Response {
        var headers = [("X-Error-Code", code)]
        if let message { headers.append(("X-Error-Message", message)) }
        return LocalHTTPServer.Response(status: status, headers: headers, body: Array("{\"error\":\"\(code)\"}".utf8))
    }
}
