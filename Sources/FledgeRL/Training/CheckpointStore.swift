import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `checkpoint-N` directories of a run's output directory, as the HF Trainer lays them out.
///
/// A checkpoint is written into `.tmp-checkpoint-N`, flushed to disk, and only then renamed to
/// `checkpoint-N`, so a `checkpoint-N` directory is always complete: a crash or an error while
/// saving leaves the previous checkpoints as they were. Old checkpoints are pruned to
/// `save_total_limit` only after the new one is in place.
public struct CheckpointStore: Sendable {
    /// The run's output directory.
    public let directory: URL

    static let prefix = "checkpoint-"
    static let temporaryPrefix = ".tmp-checkpoint-"

    public init(directory: URL) {
        self.directory = directory
    }

    /// The directory of the checkpoint after `step` optimizer steps.
    public func checkpoint(step: Int) -> URL {
        directory.appendingPathComponent(Self.prefix + String(step))
    }

    /// Complete checkpoints (those holding `trainer_state.json`), oldest first.
    public func checkpoints() -> [(step: Int, url: URL)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.compactMap { name -> (Int, URL)? in
            guard name.hasPrefix(Self.prefix), let step = Int(name.dropFirst(Self.prefix.count)) else { return nil }
            let url = directory.appendingPathComponent(name)
            let state = url.appendingPathComponent(TrainerState.fileName).path
            return FileManager.default.fileExists(atPath: state) ? (step, url) : nil
        }.sorted { $0.0 < $1.0 }
    }

    /// The newest complete checkpoint, if any.
    public func latest() -> URL? { checkpoints().last?.url }

    /// What an earlier run left here that a fresh run would mix with or overwrite: `checkpoint-N`
    /// directories (complete or not), `trainer_state.json`, a non-empty `metrics.jsonl`; names sorted.
    public func earlierRunFiles() -> [String] {
        let manager = FileManager.default
        let names = (try? manager.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { name in
            if name.hasPrefix(Self.prefix) || name == TrainerState.fileName { return true }
            guard name == MetricsFile.name else { return false }
            let size = (try? manager.attributesOfItem(atPath: directory.appendingPathComponent(name).path))?[.size] as? Int
            return (size ?? 0) > 0
        }.sorted { $0.compare($1, options: .numeric) == .orderedAscending }
    }

    /// Refuses to start a fresh run over an earlier one (``TrainingError/outputDirectoryInUse(path:found:)``),
    /// or with `overwrite` deletes the earlier run's checkpoints, `trainer_state.json`, `metrics.jsonl`,
    /// `config.resolved.yaml` and final weights (the adapter files; `model.safetensors` only where a
    /// finished run's `trainer_state.json` says it wrote them), leaving anything else in the directory.
    public func claimForFreshRun(overwrite: Bool) throws {
        let found = earlierRunFiles()
        guard !found.isEmpty else { return }
        guard overwrite else { throw TrainingError.outputDirectoryInUse(path: directory.path, found: found) }
        let manager = FileManager.default
        var doomed = found + [ResolvedConfigFile.name, "adapter_model.safetensors", "adapter_config.json"]
        if found.contains(TrainerState.fileName) { doomed.append("model.safetensors") }
        for name in doomed where manager.fileExists(atPath: directory.appendingPathComponent(name).path) {
            try manager.removeItem(at: directory.appendingPathComponent(name))
        }
    }

    /// Creates the output directory (checking that files can be written in it) and removes temporary
    /// directories left by an interrupted save; errors name `output_dir`, the path and the cause.
    public func prepare() throws {
        try createWritableDirectory()
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        for name in names where name.hasPrefix(Self.temporaryPrefix) {
            try FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }

    /// Writes the checkpoint of `step`: `write` fills a temporary directory, which is flushed and
    /// renamed into place; then checkpoints beyond `keep` (the newest ones stay) are removed.
    /// On an error the temporary directory is removed and the existing checkpoints are untouched.
    @discardableResult
    public func save(step: Int, keep: Int?, _ write: (URL) throws -> Void) throws -> URL {
        let manager = FileManager.default
        let temporary = directory.appendingPathComponent(Self.temporaryPrefix + String(step))
        if manager.fileExists(atPath: temporary.path) { try manager.removeItem(at: temporary) }
        try manager.createDirectory(at: temporary, withIntermediateDirectories: false)
        do {
            try write(temporary)
            try CheckpointFiles.synchronizeTree(temporary)
        } catch {
            try? manager.removeItem(at: temporary)
            throw error
        }
        let target = checkpoint(step: step)
        if manager.fileExists(atPath: target.path) { try manager.removeItem(at: target) }
        try manager.moveItem(at: temporary, to: target)
        try CheckpointFiles.synchronize(directory)
        if let keep, keep > 0 {
            for (_, url) in checkpoints().dropLast(keep) where url != target { try manager.removeItem(at: url) }
        }
        return target
    }

    /// The checkpoint that `resume_from_checkpoint` names: `true` or `latest` for the newest one in
    /// the output directory, else a path; `nil` for `false` or no setting.
    public func resolve(_ setting: String?) throws(TrainingError) -> URL? {
        guard let setting, !["false", "none", ""].contains(setting.lowercased()) else { return nil }
        if ["true", "latest"].contains(setting.lowercased()) {
            guard let latest = latest() else {
                throw .checkpoint(path: directory.path, problem: "resume_from_checkpoint is \(setting), but there is no complete checkpoint-N directory here; "
                    + "set output_dir to the run's directory, or remove resume_from_checkpoint to start afresh")
            }
            return latest
        }
        let url = URL(fileURLWithPath: setting)
        guard FileManager.default.fileExists(atPath: url.appendingPathComponent(TrainerState.fileName).path) else {
            throw .checkpoint(path: url.path, problem: "not a complete checkpoint (no \(TrainerState.fileName)); "
                + "give a checkpoint-N directory, or true for the newest in output_dir")
        }
        return url
    }

    /// Creates `directory` and its missing parents one by one, so that an error names the component
    /// that could not be made and the system's reason; then writes and removes a probe file.
    private func createWritableDirectory() throws(TrainingError) {
        func failure(_ problem: String) -> TrainingError {
            .invalidSetting("output_dir \(directory.path) \(problem); set output_dir to a directory you can write to "
                + "(it is created if missing)")
        }
        var path = directory.path.hasPrefix("/") ? "" : FileManager.default.currentDirectoryPath
        for component in directory.path.split(separator: "/") {
            path += "/" + component
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
                guard isDirectory.boolValue else { throw failure("cannot be used: \(path) is a file, not a directory") }
                continue
            }
            guard mkdir(path, 0o777) == 0 || errno == EEXIST else {
                throw failure("cannot be created: making \(path) failed (\(String(cString: strerror(errno))))")
            }
        }
        let probe = directory.appendingPathComponent(".fledge-write-check")
        let descriptor = open(probe.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else {
            throw failure("is not writable (\(String(cString: strerror(errno))))")
        }
        close(descriptor)
        unlink(probe.path)
    }
}
