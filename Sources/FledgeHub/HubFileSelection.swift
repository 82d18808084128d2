#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which files of a repository to fetch: shell patterns as `huggingface_hub`'s `allow_patterns`
/// (`fnmatch`, where `*` also crosses `/`, and a pattern ending in `/` means everything under it).
public struct HubFileSelection: Sendable, Equatable {
    public var patterns: [String]
    /// Only files at the repository's top level (no `/` in their path).
    public var topLevelOnly: Bool

    public init(patterns: [String], topLevelOnly: Bool = false) {
        self.patterns = patterns
        self.topLevelOnly = topLevelOnly
    }

    /// Every file.
    public static let all = HubFileSelection(patterns: ["*"])

    /// What loading a model reads first: config.json, generation_config.json, the tokenizer files,
    /// chat templates and the safetensors index (top-level `*.json`, `*.jinja`), and `model.safetensors`
    /// — not other weight files such as Mistral's `consolidated.safetensors`; the shards an index lists
    /// are fetched next (`ModelLocation`).
    public static let model = modelFiles(weights: true)

    /// The top-level `*.json` and `*.jinja` files of a model, and `model.safetensors` with `weights`.
    public static func modelFiles(weights: Bool) -> HubFileSelection {
        HubFileSelection(patterns: ["*.json", "*.jinja"] + (weights ? ["model.safetensors"] : []), topLevelOnly: true)
    }

    /// Whether `path` (relative to the repository) is selected.
    public func matches(_ path: String) -> Bool {
        if topLevelOnly && path.contains("/") { return false }
        return patterns.contains { pattern in
            let expanded = pattern.hasSuffix("/") ? pattern + "*" : pattern
            return fnmatch(expanded, path, 0) == 0
        }
    }
}
