import Foundation
import Yams

/// Which files make up each split of a dataset repository, found from its file list and README.md as
/// `datasets.load_dataset(path, name)` finds them: the README's `configs:` with `data_files`, else the
/// library's default split patterns (`data/train-00000-of-00002.parquet`, `train.jsonl`, `test/…`,
/// `validation-…`, and every data file as `train` when nothing names a split). It reads no files, so
/// a local folder and a Hub repository's file list (before anything is downloaded) resolve alike.
public struct DatasetLayout: Sendable {
    /// The config chosen (`dataset_config`, the README's default, or nil when there are no configs).
    public let config: String?
    /// Whether the splits come from the README's `configs:` (else from the default split patterns).
    public let isDeclared: Bool
    /// The splits in the library's order (train, validation, test, then the others by name), each with
    /// its files as `/`-separated paths relative to the repository. Empty when nothing matches.
    public let splits: [(name: String, files: [String])]

    /// The layout of a repository holding `files` (relative paths; those that are not data files are
    /// ignored) whose README.md reads `readme` (nil without one), for `config`. Errors name `source`
    /// (the folder, or the Hub id and revision) or `readmePath`, and say what to change.
    public init(files: [String], readme: String?, readmePath: String, config: String?, source: String) throws(DatasetError) {
        let dataFiles = files.filter(Self.isDataFile).sorted()
        if let declared = try Self.readmeConfigs(readme, path: readmePath) {
            let chosen = try Self.choose(config, from: declared, folder: source)
            splits = try chosen.splits.map { split throws(DatasetError) in
                let matched = try Self.resolve(split.patterns, in: dataFiles)
                guard !matched.isEmpty else {
                    throw DatasetError(file: readmePath, "config \(chosen.name), split \(split.name): no file matches "
                        + split.patterns.joined(separator: ", "))
                }
                return (split.name, matched)
            }
            guard !splits.isEmpty else {
                throw DatasetError(file: readmePath, "config \(chosen.name) lists no splits in its data_files")
            }
            self.config = chosen.name
            isDeclared = true
            return
        }
        if let config { throw DatasetError(file: source, "dataset_config is \(config), but the README.md declares no configs") }
        self.config = nil
        isDeclared = false
        splits = try Self.defaultSplits(dataFiles)
    }

    /// Every file of every split, each once, in split order.
    public var allFiles: [String] {
        var seen = Set<String>()
        return splits.flatMap(\.files).filter { seen.insert($0).inserted }
    }

    /// Whether `path` may hold rows: a data file extension Fledge reads, and not one of the metadata files
    /// `datasets` writes next to them.
    public static func isDataFile(_ path: String) -> Bool {
        let ignored: Set<String> = ["README.md", "config.json", "dataset_info.json", "dataset_infos.json", "dataset_dict.json",
                                    "state.json"]
        let name = (path as NSString).lastPathComponent
        return !ignored.contains(name) && DataFileReader.extensions.contains((name as NSString).pathExtension.lowercased())
    }

    // MARK: - Finding files

    /// The files matching any of `patterns`, in pattern order then by name, each once.
    private static func resolve(_ patterns: [String], in files: [String]) throws(DatasetError) -> [String] {
        var seen = Set<String>()
        var matched: [String] = []
        for pattern in patterns {
            let glob = try DataFilePattern(pattern)
            for path in files where glob.matches(path) && seen.insert(path).inserted {
                matched.append(path)
            }
        }
        return matched
    }

    private static let splitKeywords: [(split: String, keywords: [String])] = [
        ("train", ["train", "training"]), ("validation", ["validation", "valid", "dev", "val"]),
        ("test", ["test", "testing", "eval", "evaluation"]),
    ]

    /// The `datasets` library's default patterns (data_files.py): sharded `data/{split}-NNNNN-of-NNNNN*.*`
    /// first, then split names as folders, then in file names, then everything as `train`.
    private static func defaultSplits(_ files: [String]) throws(DatasetError) -> [(name: String, files: [String])] {
        // A constant pattern that compiles.
        let sharded = try! NSRegularExpression(pattern: "^data/([^/]+?)-[0-9]{5}-of-[0-9]{5}[^/]*\\.[^/]*$")
        var shardedSplits: [String: [String]] = [:]
        for path in files {
            guard let match = sharded.firstMatch(in: path, range: NSRange(path.startIndex..., in: path)),
                  let range = Range(match.range(at: 1), in: path) else { continue }
            shardedSplits[String(path[range]), default: []].append(path)
        }
        if !shardedSplits.isEmpty {
            let known = splitKeywords.map(\.split).filter { shardedSplits[$0] != nil }
            let others = shardedSplits.keys.filter { !known.contains($0) }.sorted()
            return (known + others).map { ($0, shardedSplits[$0]!) }
        }
        let separators = "-._ 0-9"
        let inDirectory = ["**/{k}/**", "**/{k}[{s}]*/**", "**/*[{s}]{k}/**", "**/*[{s}]{k}[{s}]*/**"]
        let inFileName = ["**/{k}[{s}]*", "**/*[{s}]{k}[{s}]*"]
        for templates in [inDirectory, inFileName] {
            var found: [(name: String, files: [String])] = []
            for (split, keywords) in splitKeywords {
                let patterns = keywords.flatMap { keyword in
                    templates.map { $0.replacingOccurrences(of: "{k}", with: keyword).replacingOccurrences(of: "{s}", with: separators) }
                }
                for pattern in patterns {
                    // As datasets does: the first pattern with a match decides that the split exists, and then
                    // all of the split's patterns give its files.
                    if try !resolve([pattern], in: files).isEmpty {
                        found.append((split, try resolve(patterns, in: files)))
                        break
                    }
                }
            }
            if !found.isEmpty { return found }
        }
        let everything = try resolve(["**"], in: files)
        return everything.isEmpty ? [] : [("train", everything)]
    }

    // MARK: - README configs

    /// A config of the README's YAML: its name, whether it is the default, and its splits' patterns.
    private struct DeclaredConfig {
        let name: String
        let isDefault: Bool
        let splits: [(name: String, patterns: [String])]
    }

    /// The `configs:` of the README.md front matter, or nil when there is none.
    private static func readmeConfigs(_ text: String?, path: String) throws(DatasetError) -> [DeclaredConfig]? {
        guard let text else { return nil }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
        guard lines.first == "---", let end = lines.dropFirst().firstIndex(of: "---") else { return nil }
        lines = Array(lines[1..<end])
        let yaml: Any?
        do {
            yaml = try Yams.load(yaml: lines.joined(separator: "\n"))
        } catch {
            throw DatasetError(file: path, "the YAML front matter does not parse: \(error)")
        }
        guard let front = yaml as? [String: Any], let configs = front["configs"] else { return nil }
        guard let list = configs as? [[String: Any]] else {
            throw DatasetError(file: path, "configs: must be a list of {config_name, data_files}")
        }
        return try list.map { entry throws(DatasetError) in
            let name = entry["config_name"] as? String ?? "default"
            guard let dataFiles = entry["data_files"] else {
                throw DatasetError(file: path, "config \(name) has no data_files")
            }
            return DeclaredConfig(name: name, isDefault: entry["default"] as? Bool ?? false,
                                  splits: try splitPatterns(dataFiles, file: path, config: name))
        }
    }

    /// `data_files` as a pattern (train), a list of patterns (train), a list of `{split, path}`, or a
    /// mapping from split to patterns.
    private static func splitPatterns(_ value: Any, file: String, config: String) throws(DatasetError)
        -> [(name: String, patterns: [String])] {
        func patterns(_ value: Any?) throws(DatasetError) -> [String] {
            if let single = value as? String { return [single] }
            if let many = value as? [String] { return many }
            throw DatasetError(file: file, "config \(config): a data_files path must be a pattern or a list of patterns")
        }
        if value is String || value is [String] { return [("train", try patterns(value))] }
        if let list = value as? [[String: Any]] {
            return try list.map { entry throws(DatasetError) in
                guard let split = entry["split"] as? String else {
                    throw DatasetError(file: file, "config \(config): each data_files entry needs a split")
                }
                return (split, try patterns(entry["path"]))
            }
        }
        if let mapping = value as? [String: Any] {
            return try mapping.keys.sorted().map { split throws(DatasetError) in (split, try patterns(mapping[split])) }
        }
        throw DatasetError(file: file, "config \(config): data_files must be a pattern, a list, or a list of {split, path}")
    }

    /// The config named `name`; without a name, the default one (marked `default: true`, or named
    /// `default`, or the only one), as `datasets` picks it.
    private static func choose(_ name: String?, from configs: [DeclaredConfig], folder: String) throws(DatasetError) -> DeclaredConfig {
        let names = configs.map(\.name).joined(separator: ", ")
        if let name {
            guard let config = configs.first(where: { $0.name == name }) else {
                throw DatasetError(file: folder, "no config '\(name)' (the configs are \(names)); set dataset_config to one of them")
            }
            return config
        }
        if let config = configs.first(where: \.isDefault) ?? configs.first(where: { $0.name == "default" }) { return config }
        guard configs.count == 1 else {
            throw DatasetError(file: folder, "the dataset has several configs (\(names)) and none is the default; set dataset_config")
        }
        return configs[0]
    }
}
