import Foundation

/// Where the Hugging Face cache is, which Hub to ask and with what token, read from the same
/// environment variables as `huggingface_hub` (its `constants.py`).
public struct HubEnvironment: Sendable {
    /// The cache root: `HF_HUB_CACHE`, else `HF_HOME/hub`, else `$XDG_CACHE_HOME/huggingface/hub`,
    /// else `~/.cache/huggingface/hub`.
    public var cacheDirectory: URL
    /// The Hub's base URL: `HF_ENDPOINT`, else `https://huggingface.co`, without a trailing slash.
    public var endpoint: String
    /// `HF_TOKEN`, else the file `HF_TOKEN_PATH` (default `HF_HOME/token`) that `huggingface-cli login`
    /// writes; none when neither is set.
    public var token: String?
    /// `HF_HUB_OFFLINE` set to 1, ON, YES or TRUE: only the cache is read.
    public var offline: Bool

    /// An environment given field by field (tests use this).
    public init(cacheDirectory: URL, endpoint: String = "https://huggingface.co", token: String? = nil, offline: Bool = false) {
        self.cacheDirectory = cacheDirectory
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.token = token
        self.offline = offline
    }

    /// The environment of `variables` (by default this process's), resolved as `huggingface_hub` does.
    public init(variables: [String: String] = ProcessInfo.processInfo.environment) {
        func value(_ name: String) -> String? {
            guard let text = variables[name], !text.isEmpty else { return nil }
            return text
        }
        func expandingTilde(_ path: String) -> String { (path as NSString).expandingTildeInPath }
        let home = FileManager.default.homeDirectoryForCurrentUser.path
        let hfHome = value("HF_HOME").map(expandingTilde)
            ?? ((value("XDG_CACHE_HOME").map(expandingTilde) ?? home + "/.cache") + "/huggingface")
        let cache = value("HF_HUB_CACHE").map(expandingTilde) ?? value("HUGGINGFACE_HUB_CACHE").map(expandingTilde)
            ?? hfHome + "/hub"
        let tokenFile = value("HF_TOKEN_PATH").map(expandingTilde) ?? hfHome + "/token"
        let fileToken = (try? String(contentsOfFile: tokenFile, encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let token = value("HF_TOKEN") ?? value("HUGGING_FACE_HUB_TOKEN") ?? fileToken.flatMap { $0.isEmpty ? nil : $0 }
        let offline = value("HF_HUB_OFFLINE").map { ["1", "ON", "YES", "TRUE"].contains($0.uppercased()) } ?? false
        self.init(cacheDirectory: URL(fileURLWithPath: cache), endpoint: value("HF_ENDPOINT") ?? "https://huggingface.co",
                  token: token, offline: offline)
    }
}
