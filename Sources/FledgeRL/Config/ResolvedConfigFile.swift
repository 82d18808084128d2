import Foundation

/// `config.resolved.yaml`: the config a run actually used, written next to its results.
///
/// It starts with `trainer:` and `defaults:`, lists every field with its effective value, and shows
/// derived fields as comments (they are derived again when the file is read back, and TRL rejects some
/// pairs of them given together). Reading the file back gives the same config.
public enum ResolvedConfigFile {
    /// The file name inside a run's output directory.
    public static let name = "config.resolved.yaml"

    /// The file's text.
    public static func text(of resolved: any ResolvedConfig) -> String {
        var lines = [
            "# Effective config written by Fledge: TRL field names, defaults '\(resolved.preset.rawValue)'.",
            "# Derived values are comments; they are computed again when this file is read.",
            "\(ConfigResolver.trainerKey): \(resolved.trainer.rawValue)",
            "\(ConfigResolver.presetKey): \(resolved.preset.rawValue)",
        ]
        for entry in resolved.entries {
            let line = "\(entry.key): \(entry.value.yaml)"
            lines.append(resolved.derivedFields.contains(entry.key) ? "# \(line)  (derived)" : line)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes the file into `directory` (created if missing) and returns its URL.
    @discardableResult
    public static func write(_ resolved: any ResolvedConfig, to directory: URL) throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(name)
        try AtomicFile.write(Data(text(of: resolved).utf8), to: url)
        return url
    }
}
