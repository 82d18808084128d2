import Foundation
import Yams
import FledgeJSON

/// A dataset on disk as `datasets.load_dataset(path, name)` finds its splits: a single data file (the
/// `train` split); a folder whose README.md declares `configs:` with `data_files`; a `save_to_disk`
/// folder (`dataset_dict.json`, or `state.json` for one split); else a folder whose files follow the
/// library's default split patterns (`data/train-00000-of-00002.parquet`, `train.jsonl`,
/// `test/…`, `validation-…`, and every data file as `train` when nothing names a split).
public struct DatasetRepository: Sendable {
    /// The folder (or file) given.
    public let location: URL
    /// The config chosen (`dataset_config`, the README's default, or nil when there are no configs).
    public let config: String?
    /// The splits in the library's order (train, validation, test, then the others by name), with their files.
    public let splits: [(name: String, files: [URL])]

    /// The splits of `datasetName` (a local file or folder) for `config`; errors say what to change.
    public init(_ datasetName: String?, config: String? = nil) throws(DatasetError) {
        guard let datasetName else {
            throw DatasetError(file: "dataset_name", "is not set; give a data file or a dataset folder")
        }
        location = URL(fileURLWithPath: datasetName)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: datasetName, isDirectory: &isDirectory) else {
            throw DatasetError(file: datasetName, "no such file or folder (dataset_name must be a local data file "
                + "(" + DataFileReader.extensions.map { "." + $0 }.joined(separator: ", ") + ") or a dataset folder)")
        }
        guard isDirectory.boolValue else {
            if let config { throw DatasetError(file: datasetName, "dataset_config is \(config), but a single file has no configs") }
            self.config = nil
            splits = [("train", [location])]
            return
        }
        let files = Self.dataFiles(in: location)
        if let declared = try Self.readmeConfigs(location) {
            let chosen = try Self.choose(config, from: declared, folder: datasetName)
            self.config = chosen.name
            let root = location
            splits = try chosen.splits.map { split throws(DatasetError) in
                let matched = try Self.resolve(split.patterns, in: files, root: root)
                guard !matched.isEmpty else {
                    throw DatasetError(file: root.appendingPathComponent("README.md").path, "config \(chosen.name), split "
                        + "\(split.name): no file matches \(split.patterns.joined(separator: ", "))")
                }
                return (split.name, matched)
            }
            guard !splits.isEmpty else {
                throw DatasetError(file: root.appendingPathComponent("README.md").path, "config \(chosen.name) lists no splits "
                    + "in its data_files")
            }
            return
        }
        if let config { throw DatasetError(file: datasetName, "dataset_config is \(config), but the folder's README.md declares no configs") }
        self.config = nil
        if let saved = try Self.savedSplits(location) {
            splits = saved
            return
        }
        splits = try Self.defaultSplits(files, root: location)
        guard !splits.isEmpty else {
            throw DatasetError(file: datasetName, "the folder holds no data files ("
                + DataFileReader.extensions.map { "." + $0 }.joined(separator: ", ") + ")")
        }
    }

    /// The names of the splits.
    public var splitNames: [String] { splits.map(\.name) }

    /// The files of split `name`, or nil when there is no such split.
    public func files(ofSplit name: String) -> [URL]? {
        splits.first { $0.name == name }?.files
    }

    /// The rows of split `name`; errors list the splits there are.
    public func split(_ name: String) throws(DatasetError) -> DatasetSplit {
        guard let files = files(ofSplit: name) else {
            throw DatasetError(file: location.path, "no split '\(name)' (the splits are \(splitNames.joined(separator: ", "))); "
                + "set dataset_train_split / dataset_test_split to one of them")
        }
        return try DatasetSplit(files: files)
    }

    // MARK: - Finding files

    /// Every data file under `root`, as `/`-separated paths relative to it, sorted. A file may be a
    /// symbolic link (the Hugging Face cache links a snapshot's files to its blobs).
    private static func dataFiles(in root: URL) -> [String] {
        let ignored: Set<String> = ["README.md", "config.json", "dataset_info.json", "dataset_infos.json", "dataset_dict.json",
                                    "state.json"]
        guard let enumerator = FileManager.default.enumerator(atPath: root.path) else { return [] }
        var paths: [String] = []
        while let relative = enumerator.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            guard !ignored.contains(name), DataFileReader.extensions.contains((name as NSString).pathExtension.lowercased()) else {
                continue
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root.appendingPathComponent(relative).path, isDirectory: &isDirectory),
                  !isDirectory.boolValue else { continue }
            paths.append(relative)
        }
        return paths.sorted()
    }

    /// The files matching any of `patterns`, in pattern order then by name, each once.
    private static func resolve(_ patterns: [String], in files: [String], root: URL) throws(DatasetError) -> [URL] {
        var seen = Set<String>()
        var matched: [URL] = []
        for pattern in patterns {
            let glob = try DataFilePattern(pattern)
            for path in files where glob.matches(path) && seen.insert(path).inserted {
                matched.append(root.appendingPathComponent(path))
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
    private static func defaultSplits(_ files: [String], root: URL) throws(DatasetError) -> [(name: String, files: [URL])] {
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
            return (known + others).map { ($0, shardedSplits[$0]!.map { root.appendingPathComponent($0) }) }
        }
        let separators = "-._ 0-9"
        let inDirectory = ["**/{k}/**", "**/{k}[{s}]*/**", "**/*[{s}]{k}/**", "**/*[{s}]{k}[{s}]*/**"]
        let inFileName = ["**/{k}[{s}]*", "**/*[{s}]{k}[{s}]*"]
        for templates in [inDirectory, inFileName] {
            var found: [(name: String, files: [URL])] = []
            for (split, keywords) in splitKeywords {
                let patterns = keywords.flatMap { keyword in
                    templates.map { $0.replacingOccurrences(of: "{k}", with: keyword).replacingOccurrences(of: "{s}", with: separators) }
                }
                for pattern in patterns {
                    // As datasets does: the first pattern with a match decides that the split exists, and then
                    // all of the split's patterns give its files.
                    if try !resolve([pattern], in: files, root: root).isEmpty {
                        found.append((split, try resolve(patterns, in: files, root: root)))
                        break
                    }
                }
            }
            if !found.isEmpty { return found }
        }
        let everything = try resolve(["**"], in: files, root: root)
        return everything.isEmpty ? [] : [("train", everything)]
    }

    /// The splits of a `save_to_disk` folder: `dataset_dict.json` naming split folders, or one `state.json`.
    private static func savedSplits(_ root: URL) throws(DatasetError) -> [(name: String, files: [URL])]? {
        let dictionary = root.appendingPathComponent("dataset_dict.json")
        if let data = FileManager.default.contents(atPath: dictionary.path) {
            guard case .array(let values)? = (try? JSONParser.parse([UInt8](data)))?["splits"],
                  case let names = values.compactMap(\.stringValue), names.count == values.count else {
                throw DatasetError(file: dictionary.path, "expected {\"splits\": [names…]}")
            }
            return try names.map { name throws(DatasetError) in (name, try stateFiles(root.appendingPathComponent(name))) }
        }
        guard FileManager.default.fileExists(atPath: root.appendingPathComponent("state.json").path) else { return nil }
        return [("train", try stateFiles(root))]
    }

    /// The Arrow files a `save_to_disk` split folder's `state.json` lists.
    private static func stateFiles(_ folder: URL) throws(DatasetError) -> [URL] {
        let state = folder.appendingPathComponent("state.json")
        guard let data = FileManager.default.contents(atPath: state.path),
              case .array(let entries)? = (try? JSONParser.parse([UInt8](data)))?["_data_files"] else {
            throw DatasetError(file: state.path, "missing or not a datasets state.json (expected \"_data_files\")")
        }
        let names = entries.compactMap { $0["filename"]?.stringValue }
        guard names.count == entries.count, !names.isEmpty, names.allSatisfy({ !$0.contains("/") && !$0.hasPrefix(".") }) else {
            throw DatasetError(file: state.path, "\"_data_files\" must list file names in this folder")
        }
        return names.map { folder.appendingPathComponent($0) }
    }

    // MARK: - README configs

    /// A config of the README's YAML: its name, whether it is the default, and its splits' patterns.
    private struct DeclaredConfig {
        let name: String
        let isDefault: Bool
        let splits: [(name: String, patterns: [String])]
    }

    /// The `configs:` of the README.md front matter, or nil when there is none.
    private static func readmeConfigs(_ root: URL) throws(DatasetError) -> [DeclaredConfig]? {
        let readme = root.appendingPathComponent("README.md")
        guard let data = FileManager.default.contents(atPath: readme.path) else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
        guard lines.first == "---", let end = lines.dropFirst().firstIndex(of: "---") else { return nil }
        lines = Array(lines[1..<end])
        let yaml: Any?
        do {
            yaml = try Yams.load(yaml: lines.joined(separator: "\n"))
        } catch {
            throw DatasetError(file: readme.path, "the YAML front matter does not parse: \(error)")
        }
        guard let front = yaml as? [String: Any], let configs = front["configs"] else { return nil }
        guard let list = configs as? [[String: Any]] else {
            throw DatasetError(file: readme.path, "configs: must be a list of {config_name, data_files}")
        }
        return try list.map { entry throws(DatasetError) in
            let name = entry["config_name"] as? String ?? "default"
            guard let dataFiles = entry["data_files"] else {
                throw DatasetError(file: readme.path, "config \(name) has no data_files")
            }
            return DeclaredConfig(name: name, isDefault: entry["default"] as? Bool ?? false,
                                  splits: try splitPatterns(dataFiles, file: readme.path, config: name))
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
