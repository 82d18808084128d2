import Foundation
import FledgeJSON

/// A dataset on disk as `datasets.load_dataset(path, name)` finds its splits: a single data file (the
/// `train` split); a folder whose README.md declares `configs:` with `data_files`; a `save_to_disk`
/// folder (`dataset_dict.json`, or `state.json` for one split); else a folder whose files follow the
/// library's default split patterns (`DatasetLayout`). A Hub dataset id resolves to such a folder in
/// the Hugging Face cache first (FledgeRL's `DatasetLocation`).
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
            throw DatasetError(file: "dataset_name", "is not set; give a Hub dataset id (org/name), a data file or a dataset folder")
        }
        location = URL(fileURLWithPath: datasetName)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: datasetName, isDirectory: &isDirectory) else {
            throw DatasetError(file: datasetName, "no such file or folder (dataset_name must be a Hub dataset id (org/name), a local data "
                + "file (" + DataFileReader.extensions.map { "." + $0 }.joined(separator: ", ") + ") or a dataset folder)")
        }
        guard isDirectory.boolValue else {
            if let config { throw DatasetError(file: datasetName, "dataset_config is \(config), but a single file has no configs") }
            self.config = nil
            splits = [("train", [location])]
            return
        }
        let readme = location.appendingPathComponent("README.md")
        let layout = try DatasetLayout(files: Self.files(in: location),
                                       readme: FileManager.default.contents(atPath: readme.path).map { String(decoding: $0, as: UTF8.self) },
                                       readmePath: readme.path, config: config, source: datasetName)
        self.config = layout.config
        if !layout.isDeclared, let saved = try Self.savedSplits(location) {
            splits = saved
            return
        }
        let root = location
        splits = layout.splits.map { ($0.name, $0.files.map { root.appendingPathComponent($0) }) }
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

    /// Every file under `root`, as `/`-separated paths relative to it. A file may be a symbolic link (the
    /// Hugging Face cache links a snapshot's files to its blobs).
    private static func files(in root: URL) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: root.path) else { return [] }
        var paths: [String] = []
        while let relative = enumerator.nextObject() as? String {
            guard DatasetLayout.isDataFile(relative) else { continue }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root.appendingPathComponent(relative).path, isDirectory: &isDirectory),
                  !isDirectory.boolValue else { continue }
            paths.append(relative)
        }
        return paths
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
}
