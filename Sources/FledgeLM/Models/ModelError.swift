/// Why a model directory could not be loaded. Every case names the file, field or tensor at
/// fault and says what would fix it.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    /// A file the directory needs is not there.
    case missingFile(path: String, hint: String)
    /// A file is not what it should be (unreadable JSON, a malformed shard index).
    case invalidFile(path: String, problem: String)
    /// config.json lacks a field, or a field has the wrong type or an unsupported value.
    case invalidConfig(file: String, field: String, problem: String)
    /// config.json names a `model_type` Fledge does not implement.
    case unsupportedModelType(file: String, modelType: String, supported: [String])
    /// The checkpoint's tensors do not match the architecture the config describes.
    case weightMismatch(directory: String, missing: [String], misshapen: [String], unused: [String])

    public var description: String {
        switch self {
        case let .missingFile(path, hint):
            return "\(path): no such file; \(hint)"
        case let .invalidFile(path, problem):
            return "\(path): \(problem)"
        case let .invalidConfig(file, field, problem):
            return "\(file): field '\(field)' \(problem)"
        case let .unsupportedModelType(file, modelType, supported):
            return "\(file): model_type '\(modelType)' is not supported; Fledge supports "
                + supported.map { "'\($0)'" }.joined(separator: ", ")
        case let .weightMismatch(directory, missing, misshapen, unused):
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing weights: \(Self.list(missing))") }
            if !misshapen.isEmpty { parts.append("weights of the wrong shape: \(Self.list(misshapen))") }
            if !unused.isEmpty { parts.append("weights the architecture does not use: \(Self.list(unused))") }
            return "\(directory): the checkpoint does not match config.json: " + parts.joined(separator: "; ")
                + " (check that config.json and the safetensors files belong to the same model)"
        }
    }

    private static func list(_ names: [String]) -> String {
        let shown = names.prefix(8).joined(separator: ", ")
        return names.count > 8 ? "\(shown), … (\(names.count) in all)" : shown
    }
}
