import Foundation
import FledgeData
import FledgeHub

/// Where the dataset that `dataset_name` names is: a local data file or folder, else a Hub dataset id
/// (`org/name`, optionally `org/name@revision`) resolved through the Hugging Face cache as
/// `datasets.load_dataset` resolves it. Online, the Hub's file list for the revision is read, README.md
/// is fetched first, and then only the data files of the chosen config (`DatasetLayout`: its `configs:`
/// / `data_files`, else the default split patterns) — every split of that config, as `load_dataset`
/// downloads them. With `HF_HUB_OFFLINE=1`, or when the Hub cannot be reached, the cached snapshot of
/// the revision is read as it is. The snapshot folder is then read as a local dataset folder.
///
/// This lives in FledgeRL, which already links FledgeHub, so that FledgeData (the file readers and the
/// split logic) stays free of networking and the cache.
public enum DatasetLocation {
    /// The dataset `nameOrPath` names, for `config`: the local file or folder when it exists, else the
    /// Hub dataset at `@revision` (default `main`) in the cache, downloaded into it when missing.
    public static func resolve(_ nameOrPath: String?, config: String?,
                               environment: HubEnvironment = HubEnvironment()) throws(DatasetError) -> DatasetRepository {
        guard let nameOrPath, !FileManager.default.fileExists(atPath: nameOrPath),
              case let (id, revision) = HubRepo.splitRevision(nameOrPath), HubRepo.isValidId(id) else {
            return try DatasetRepository(nameOrPath, config: config)
        }
        let revisionName = revision ?? "main"
        let snapshot: (folder: URL, cachedOnly: Bool)
        do {
            snapshot = try self.snapshot(try HubRepo(id: id, kind: .dataset), revision: revisionName, config: config,
                                         environment: environment)
        } catch let error as DatasetError {
            throw error
        } catch {
            throw DatasetError(file: "dataset_name", "'\(nameOrPath)' is not a local file or folder, so it was looked up as "
                + "a Hub dataset id (revision \(revisionName)): \(error)")
        }
        do {
            return try DatasetRepository(snapshot.folder.path, config: config)
        } catch where snapshot.cachedOnly {
            // Offline, the snapshot holds what earlier runs fetched, which may be another config's files.
            throw DatasetError(file: error.file, line: error.line, row: error.row, error.message + " (read from the cache without "
                + "the Hub: the files of this config may never have been downloaded; run once online, or `fledge download "
                + "\(id) --repo-type dataset\(revision.map { " --revision \($0)" } ?? "")`)")
        }
    }

    /// The snapshot folder of `repo` at `revision`, and whether it was taken from the cache as it is (offline,
    /// or the Hub unreachable) rather than completed with README.md and the data files of `config`.
    private static func snapshot(_ repo: HubRepo, revision: String, config: String?,
                                 environment: HubEnvironment) throws -> (folder: URL, cachedOnly: Bool) {
        let downloader = HubDownloader(environment: environment)
        let cache = HubCache(root: environment.cacheDirectory)
        guard !environment.offline else {
            return (try downloader.snapshot(repo, revision: revision, files: .all), true)
        }
        let info: HubDownloader.RevisionInfo
        do {
            info = try downloader.revisionInfo(repo, revision: revision)
        } catch {
            guard case .connection(let url, let reason) = error else { throw error }
            if let cached = cache.snapshot(repo, revision: revision) { return (cached, true) }
            throw HubError.connection(url: url, reason: reason + "; \(repo) (revision \(revision)) is not cached either")
        }
        let readmeName = "README.md"
        var readme: String?
        if info.files.contains(readmeName) {
            let folder = try downloader.download([readmeName], of: repo, at: info, revision: revision)
            let data = FileManager.default.contents(atPath: folder.appendingPathComponent(readmeName).path)
            readme = data.map { String(decoding: $0, as: UTF8.self) }
        }
        let layout = try DatasetLayout(files: info.files, readme: readme, readmePath: "\(repo.id)@\(revision)/\(readmeName)",
                                       config: config, source: "\(repo) (revision \(revision))")
        guard !layout.splits.isEmpty else {
            throw DatasetError(file: "\(repo) (revision \(revision))", "the repository holds no data files that Fledge reads "
                + "(Parquet, Arrow, JSON Lines, JSON, CSV)")
        }
        return (try downloader.download(layout.allFiles, of: repo, at: info, revision: revision), false)
    }
}
