import Foundation
import FledgeJSON
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Resolves a Hub repository at a revision to a snapshot folder in the Hugging Face cache, downloading
/// the selected files when they are missing, as `huggingface_hub`'s `snapshot_download` and
/// `hf_hub_download` do, so that each side finds what the other downloaded.
public struct HubDownloader: Sendable {
    public let environment: HubEnvironment
    public let cache: HubCache
    /// Whether a progress line is drawn on standard error (by default only when it is a terminal).
    public var showProgress: Bool
    /// How many times one file's download is tried, each resuming where the last stopped.
    public var attempts = 3
    /// How long to wait for another process downloading the same blob.
    public var lockTimeout: TimeInterval = 3600

    public init(environment: HubEnvironment = HubEnvironment(), showProgress: Bool = isatty(STDERR_FILENO) != 0) {
        self.environment = environment
        cache = HubCache(root: environment.cacheDirectory)
        self.showProgress = showProgress
    }

    /// The snapshot folder of `repo` at `revision` (a branch, tag or commit hash) holding the files of
    /// `files`. With `preferCache`, a cached snapshot that holds `required` is returned without asking
    /// the Hub; otherwise (as `fledge download` does) the Hub is asked for the revision's commit and
    /// file list and the missing files are downloaded. `HF_HUB_OFFLINE` reads only the cache; an
    /// unreachable Hub falls back to the cache.
    public func snapshot(_ repo: HubRepo, revision: String = "main", files: HubFileSelection,
                         required: [String] = [], preferCache: Bool = true) throws(HubError) -> URL {
        let cached = cache.snapshot(repo, revision: revision, required: required)
        if let cached, preferCache || environment.offline { return cached }
        guard !environment.offline else {
            throw .notCached(repo: repo, revision: revision, looked: cache.lookedFor(repo, revision: revision, required: required), offline: true)
        }
        let info: RevisionInfo
        do {
            info = try revisionInfo(repo, revision: revision)
        } catch .connection(let url, let reason) {
            if let cached { return cached }
            throw .connection(url: url, reason: reason + "; \(repo) (revision \(revision)) is not cached either (looked for "
                + cache.lookedFor(repo, revision: revision, required: required) + ")")
        }
        let selected = info.files.filter(files.matches)
        guard !selected.isEmpty else { throw .noMatchingFiles(repo: repo, revision: revision, patterns: files.patterns) }
        return try download(selected, of: repo, at: info, revision: revision)
    }

    /// The snapshot folder of `info`'s commit once it holds `files` (paths from `info.files`, fetched
    /// when missing), with `revision` recorded as naming that commit (`refs/REVISION`), as
    /// `snapshot_download` leaves the cache. For callers that choose files from the list themselves.
    public func download(_ files: [String], of repo: HubRepo, at info: RevisionInfo, revision: String) throws(HubError) -> URL {
        for file in files { try fetch(repo, commit: info.commit, file: file) }
        try cache.writeRef(repo, revision: revision, commit: info.commit)
        return cache.snapshotFolder(repo, commit: info.commit)
    }

    /// A revision's commit and file list, from `GET /api/{models|datasets}/{repo}/revision/{revision}`.
    public struct RevisionInfo: Sendable {
        /// The commit hash the revision names.
        public let commit: String
        /// Every file of the repository at that commit, as `/`-separated paths.
        public let files: [String]
    }

    /// Asks the Hub for `revision`'s commit and file list (never the cache); errors as `snapshot`'s.
    public func revisionInfo(_ repo: HubRepo, revision: String) throws(HubError) -> RevisionInfo {
        let url = environment.endpoint + "/api/\(repo.kind.rawValue)s/\(repo.id)/revision/" + HubDownloader.quote(revision, keepSlash: false)
        let answer = try HTTPTransfer.send("GET", try HubDownloader.url(url), headers: headers(for: url), followRedirects: true)
        try check(answer, url: url, repo: repo, revision: revision, file: nil)
        let json: JSONValue
        do { json = try JSONParser.parse(Array(answer.body)) } catch {
            throw .invalidResponse(url: url, problem: "the body is not JSON (\(error))")
        }
        guard case .string(let commit)? = json["sha"], case .array(let siblings)? = json["siblings"] else {
            throw .invalidResponse(url: url, problem: "expected an object with \"sha\" and \"siblings\"")
        }
        let files = siblings.compactMap { sibling -> String? in
            guard case .string(let name)? = sibling["rfilename"] else { return nil }
            return name
        }
        return RevisionInfo(commit: commit, files: files)
    }

    /// Puts `file` of the commit into the cache: its blob (downloaded under the ETag's lock unless a
    /// process already did) and the snapshot's symlink to it.
    func fetch(_ repo: HubRepo, commit: String, file: String) throws(HubError) {
        let pointer = cache.snapshotFolder(repo, commit: commit).appendingPathComponent(file)
        if FileManager.default.fileExists(atPath: pointer.path) { return }
        let url = environment.endpoint + "/" + repo.urlPrefix + repo.id + "/resolve/" + commit + "/" + HubDownloader.quote(file, keepSlash: true)
        let metadata = try fileMetadata(url: url, repo: repo, commit: commit, file: file)
        let blob = cache.blobURL(repo, etag: metadata.etag)
        try cache.tagCacheDirectory()
        if !FileManager.default.fileExists(atPath: blob.path) {
            try BlobLock.holding(cache.lockURL(repo, etag: metadata.etag), timeout: lockTimeout) { () throws(HubError) in
                if !FileManager.default.fileExists(atPath: blob.path) {
                    try download(metadata.location, to: blob, size: metadata.size, name: file)
                }
            }
        }
        try cache.link(repo, commit: commit, file: file, etag: metadata.etag)
    }

    /// What a `HEAD` of the resolve URL says: the ETag naming the blob (`X-Linked-Etag` for files kept in
    /// LFS, else `ETag`, without quotes or `W/`), the size, and where the bytes are. As in
    /// `huggingface_hub`, redirects on the Hub's own host (renamed repos) are followed, and a redirect to
    /// another host (the CDN) is where the bytes are, with the file's headers on the redirect itself.
    struct FileMetadata {
        let etag: String
        let size: Int?
        let location: URL
    }

    func fileMetadata(url: String, repo: HubRepo, commit: String, file: String) throws(HubError) -> FileMetadata {
        var current = try HubDownloader.url(url)
        for _ in 0..<10 {
            var headers = headers(for: current.absoluteString)
            headers["Accept-Encoding"] = "identity"
            let answer = try HTTPTransfer.send("HEAD", current, headers: headers, followRedirects: false)
            try check(answer, url: current.absoluteString, repo: repo, revision: commit, file: file)
            let location = answer.header("Location").flatMap { URL(string: $0, relativeTo: current)?.absoluteURL }
            if (300..<400).contains(answer.status), let location, HubDownloader.sameOrigin(location, current) {
                current = location
                continue
            }
            guard let etag = (answer.header("X-Linked-Etag") ?? answer.header("ETag")).map(HubDownloader.normalizeETag),
                  !etag.isEmpty, !etag.contains("/")
            else { throw .invalidResponse(url: current.absoluteString, problem: "no ETag header, so the file cannot be named in the cache") }
            let size = (answer.header("X-Linked-Size") ?? answer.header("Content-Length")).flatMap { Int($0) }
            return FileMetadata(etag: etag, size: size, location: (300..<400).contains(answer.status) ? location ?? current : current)
        }
        throw .invalidResponse(url: url, problem: "more than 10 relative redirects")
    }

    /// Downloads `source` into `blob`: bytes go to `blob.incomplete`, which a later try resumes with a
    /// `Range` request, and the file is renamed to the blob once it has all `size` bytes.
    func download(_ source: URL, to blob: URL, size: Int?, name: String) throws(HubError) {
        let incomplete = URL(fileURLWithPath: blob.path + ".incomplete")
        let handle: FileHandle
        do {
            try FileManager.default.createDirectory(at: blob.deletingLastPathComponent(), withIntermediateDirectories: true)
            if !FileManager.default.fileExists(atPath: incomplete.path) {
                _ = FileManager.default.createFile(atPath: incomplete.path, contents: nil)
            }
            handle = try FileHandle(forWritingTo: incomplete)
        } catch {
            throw .cacheWrite(path: incomplete.path, reason: "\(error)")
        }
        defer { try? handle.close() }
        let progress = DownloadProgress(name: name, total: size, enabled: showProgress)
        for attempt in 1...attempts {
            let have = Int((try? handle.seekToEnd()) ?? 0)
            if let size, have == size { break }
            var headers = headers(for: source.absoluteString)
            headers["Accept-Encoding"] = "identity"  // the bytes as stored, so that sizes and ranges count them
            if have > 0 { headers["Range"] = "bytes=\(have)-" }
            var written = have
            do {
                let answer = try HTTPTransfer.send("GET", source, headers: headers, followRedirects: true) { status, chunk throws(HubError) in
                    if status == 200 && written == have && have > 0 {
                        try HubDownloader.truncate(handle, path: incomplete.path)
                        written = 0
                    }
                    do { try handle.write(contentsOf: chunk) } catch {
                        throw HubError.cacheWrite(path: incomplete.path, reason: "\(error)")
                    }
                    written += chunk.count
                    progress.update(written)
                }
                try check(answer, url: source.absoluteString, repo: nil, revision: nil, file: name)
                break
            } catch .connection(let url, let reason) where attempt < attempts {
                progress.note("connection to \(url) lost (\(reason)) at \(written) bytes; resuming")
                continue
            }
        }
        progress.finish()
        let have = Int((try? handle.seekToEnd()) ?? 0)
        if let size, have != size {
            throw .invalidResponse(url: source.absoluteString, problem: "got \(have) bytes of \(name), expected \(size); run the command again to resume")
        }
        do { try FileManager.default.moveItem(at: incomplete, to: blob) } catch {
            throw .cacheWrite(path: blob.path, reason: "\(error)")
        }
    }

    private static func truncate(_ handle: FileHandle, path: String) throws(HubError) {
        do {
            try handle.truncate(atOffset: 0)
        } catch {
            throw .cacheWrite(path: path, reason: "\(error)")
        }
    }

    /// Authorization (only towards the Hub's own host, not a CDN it redirects to) and a user agent.
    private func headers(for url: String) -> [String: String] {
        var headers = ["User-Agent": "fledge; hf_hub-compatible"]
        if let token = environment.token, URL(string: url)?.host == URL(string: environment.endpoint)?.host {
            headers["Authorization"] = "Bearer \(token)"
        }
        return headers
    }

    /// Throws the error an unsuccessful answer means, from its status and `X-Error-Code`.
    private func check(_ answer: HTTPTransfer.Answer, url: String, repo: HubRepo?, revision: String?, file: String?) throws(HubError) {
        guard answer.status >= 400 else { return }
        let message = answer.header("X-Error-Message")
        let code = answer.header("X-Error-Code")
        if let repo {
            if answer.status == 401 || answer.status == 403 || code == "GatedRepo" {
                throw .unauthorized(repo: repo, url: url, status: answer.status, hadToken: environment.token != nil, message: message)
            }
            if answer.status == 404 {
                switch code {
                case "RevisionNotFound": throw .revisionNotFound(repo: repo, revision: revision ?? "?", url: url)
                case "EntryNotFound": throw .fileNotFound(repo: repo, file: file ?? "?", url: url)
                case "RepoNotFound": throw .repoNotFound(repo: repo, url: url, message: message)
                default:
                    if let file { throw .fileNotFound(repo: repo, file: file, url: url) }
                    throw .repoNotFound(repo: repo, url: url, message: message)
                }
            }
        }
        throw .http(url: url, status: answer.status, message: message ?? String(decoding: answer.body.prefix(200), as: UTF8.self))
    }

    /// Whether the two URLs have the same scheme, host and port.
    static func sameOrigin(_ one: URL, _ other: URL) -> Bool {
        func origin(_ url: URL) -> String {
            let scheme = url.scheme?.lowercased() ?? ""
            return "\(scheme)://\(url.host?.lowercased() ?? ""):\(url.port ?? (scheme == "https" ? 443 : 80))"
        }
        return origin(one) == origin(other)
    }

    static func url(_ text: String) throws(HubError) -> URL {
        guard let url = URL(string: text), url.scheme != nil else {
            throw .invalidResponse(url: text, problem: "not a valid URL; check HF_ENDPOINT")
        }
        return url
    }

    /// `W/"abc"` → `abc`, as `huggingface_hub`'s `_normalize_etag`.
    static func normalizeETag(_ etag: String) -> String {
        var text = Substring(etag.trimmingCharacters(in: .whitespaces))
        if text.hasPrefix("W/") { text = text.dropFirst(2) }
        return String(text).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }

    /// Percent-encodes as Python's `urllib.parse.quote` (safe `/` in file paths, nothing in revisions).
    static func quote(_ text: String, keepSlash: Bool) -> String {
        var allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        if keepSlash { allowed.insert("/") }
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
