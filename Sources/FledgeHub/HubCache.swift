import Foundation

/// The Hugging Face cache layout that `huggingface_hub` reads and writes (`file_download.py`):
///
///     ROOT/models--org--name/refs/REVISION             the commit hash a branch or tag pointed to
///     ROOT/models--org--name/blobs/ETAG                a file's bytes, named by its ETag without quotes
///     ROOT/models--org--name/snapshots/COMMIT/PATH     a relative symlink to ../../blobs/ETAG
///     ROOT/.locks/models--org--name/ETAG.lock          held while a process downloads that blob
///     ROOT/CACHEDIR.TAG                                tells backup tools to skip the cache
public struct HubCache: Sendable {
    public let root: URL

    public init(root: URL) { self.root = root }

    /// The repository's folder.
    public func folder(_ repo: HubRepo) -> URL { root.appendingPathComponent(repo.folderName) }

    /// The commit `revision` means in the cache: itself when it is a 40-digit commit hash, else what
    /// `refs/REVISION` holds.
    public func commit(_ repo: HubRepo, revision: String) -> String? {
        if HubCache.isCommitHash(revision) { return revision }
        let ref = refURL(repo, revision: revision)
        guard let text = try? String(contentsOf: ref, encoding: .utf8) else { return nil }
        let commit = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return commit.isEmpty ? nil : commit
    }

    /// The cached snapshot folder of `revision`, when it exists and holds every file of `required`.
    public func snapshot(_ repo: HubRepo, revision: String, required: [String] = []) -> URL? {
        guard let commit = commit(repo, revision: revision) else { return nil }
        let folder = snapshotFolder(repo, commit: commit)
        let present = required.allSatisfy { FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path) }
        return FileManager.default.fileExists(atPath: folder.path) && present ? folder : nil
    }

    /// What `snapshot` looks for, in words, for errors.
    func lookedFor(_ repo: HubRepo, revision: String, required: [String]) -> String {
        let snapshots = folder(repo).appendingPathComponent("snapshots").path
        let commitPart = HubCache.isCommitHash(revision)
            ? "\(snapshots)/\(revision)"
            : "\(refURL(repo, revision: revision).path) (the commit of '\(revision)') and its folder in \(snapshots)"
        return commitPart + (required.isEmpty ? "" : " holding \(required.joined(separator: ", "))")
    }

    func snapshotFolder(_ repo: HubRepo, commit: String) -> URL {
        folder(repo).appendingPathComponent("snapshots").appendingPathComponent(commit)
    }

    func blobURL(_ repo: HubRepo, etag: String) -> URL {
        folder(repo).appendingPathComponent("blobs").appendingPathComponent(etag)
    }

    func lockURL(_ repo: HubRepo, etag: String) -> URL {
        root.appendingPathComponent(".locks").appendingPathComponent(repo.folderName).appendingPathComponent(etag + ".lock")
    }

    private func refURL(_ repo: HubRepo, revision: String) -> URL {
        folder(repo).appendingPathComponent("refs").appendingPathComponent(revision)
    }

    /// Records that `revision` (a branch or tag) points at `commit`, as `huggingface_hub` does: the
    /// hash alone, no newline. A commit hash given as the revision writes nothing.
    func writeRef(_ repo: HubRepo, revision: String, commit: String) throws(HubError) {
        guard revision != commit else { return }
        let ref = refURL(repo, revision: revision)
        if (try? String(contentsOf: ref, encoding: .utf8)) == commit { return }
        try HubCache.write(Data(commit.utf8), to: ref)
    }

    /// Points `snapshots/COMMIT/FILE` at the blob by a relative symlink (`../../blobs/ETAG`, one `../`
    /// more per folder in FILE), replacing what was there.
    func link(_ repo: HubRepo, commit: String, file: String, etag: String) throws(HubError) {
        let pointer = snapshotFolder(repo, commit: commit).appendingPathComponent(file)
        let depth = file.split(separator: "/").count - 1
        let target = String(repeating: "../", count: depth + 2) + "blobs/" + etag
        do {
            try FileManager.default.createDirectory(at: pointer.deletingLastPathComponent(), withIntermediateDirectories: true)
            if (try? FileManager.default.destinationOfSymbolicLink(atPath: pointer.path)) == target { return }
            try? FileManager.default.removeItem(at: pointer)
            try FileManager.default.createSymbolicLink(atPath: pointer.path, withDestinationPath: target)
        } catch {
            throw .cacheWrite(path: pointer.path, reason: "\(error)")
        }
    }

    /// Tags the cache root with `CACHEDIR.TAG` (https://bford.info/cachedir/) so that backup tools skip
    /// it, as `huggingface_hub` does, unless it is there already.
    func tagCacheDirectory() throws(HubError) {
        let tag = root.appendingPathComponent("CACHEDIR.TAG")
        guard !FileManager.default.fileExists(atPath: tag.path) else { return }
        try HubCache.write(Data("""
            Signature: 8a477f597d28d172789f06886806bc55
            # This file is a cache directory tag created by Fledge (in the layout of huggingface_hub).
            # For information about cache directory tags, see:
            #\thttps://bford.info/cachedir/

            """.utf8), to: tag)
    }

    static func write(_ data: Data, to url: URL) throws(HubError) {
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url, options: .atomic)
        } catch {
            throw .cacheWrite(path: url.path, reason: "\(error)")
        }
    }

    /// A full 40-digit lowercase hex commit hash, which `huggingface_hub` never looks up in `refs/`.
    public static func isCommitHash(_ text: String) -> Bool {
        text.utf8.count == 40 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}
