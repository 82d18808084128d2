import Foundation

/// Where the rows of a split are: `dataset_name` is a JSON Lines file (the training split), or a
/// folder holding `<split>.jsonl` (e.g. `train.jsonl`, `test.jsonl`).
public enum DatasetLocation {
    /// The training file: `datasetName` itself, or `<split>.jsonl` inside it when it is a folder.
    public static func trainingFile(_ datasetName: String?, split: String) throws(DatasetError) -> URL {
        guard let datasetName else {
            throw DatasetError(file: "dataset_name", "is not set; give a .jsonl file or a folder holding \(split).jsonl")
        }
        switch kind(of: datasetName) {
        case .file: return URL(fileURLWithPath: datasetName)
        case .folder:
            if let url = evaluationFile(datasetName, split: split) { return url }
            throw DatasetError(file: datasetName, "the folder has no \(split).jsonl; add it or set dataset_train_split "
                + "to the name of the file without .jsonl")
        case .missing:
            throw DatasetError(file: datasetName, "no such file or folder (dataset_name must be a local .jsonl file or a "
                + "folder holding \(split).jsonl)")
        }
    }

    /// `<split>.jsonl` inside `datasetName` when it is a folder that has one; `nil` otherwise (a
    /// single file holds only the training split).
    public static func evaluationFile(_ datasetName: String?, split: String) -> URL? {
        guard let datasetName, kind(of: datasetName) == .folder else { return nil }
        let url = URL(fileURLWithPath: datasetName).appendingPathComponent(split + ".jsonl")
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    private enum Kind { case file, folder, missing }

    private static func kind(of path: String) -> Kind {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return .missing }
        return isDirectory.boolValue ? .folder : .file
    }
}
