import Foundation

/// Why a Hub id could not be resolved to files, with what was looked for, where, and how to fix it.
public enum HubError: Error, CustomStringConvertible, Equatable {
    case invalidRepoId(String)
    case notCached(repo: HubRepo, revision: String, looked: String, offline: Bool)
    case unauthorized(repo: HubRepo, url: String, status: Int, hadToken: Bool, message: String?)
    case repoNotFound(repo: HubRepo, url: String, message: String?)
    case revisionNotFound(repo: HubRepo, revision: String, url: String)
    case fileNotFound(repo: HubRepo, file: String, url: String)
    case http(url: String, status: Int, message: String?)
    case connection(url: String, reason: String)
    case invalidResponse(url: String, problem: String)
    case noMatchingFiles(repo: HubRepo, revision: String, patterns: [String])
    case cacheWrite(path: String, reason: String)
    case lockTimeout(path: String, seconds: Double)
    case conflictingRevisions(id: String, inId: String, field: String)

    public var description: String {
        switch self {
        case .invalidRepoId(let id):
            return "'\(id)' is neither an existing local path nor a Hugging Face Hub id (org/name: letters, digits, '-', '_', '.')"
        case .notCached(let repo, let revision, let looked, let offline):
            let fix = offline
                ? "HF_HUB_OFFLINE is set, so nothing is downloaded: unset HF_HUB_OFFLINE, or run `fledge download \(repo.id)\(repo.kind == .dataset ? " --repo-type dataset" : "")\(revision == "main" ? "" : " --revision \(revision)")` while online"
                : "it could not be downloaded either"
            return "\(repo) (revision \(revision)) is not in the Hugging Face cache: looked for \(looked); \(fix)"
        case .unauthorized(let repo, let url, let status, let hadToken, let message):
            let fix = hadToken
                ? "the token in HF_TOKEN (or HF_HOME/token) cannot read it: check the id, and that the token has access (gated repos need their terms accepted on the Hub)"
                : "it is private, gated or does not exist: set HF_TOKEN (or log in with `huggingface-cli login`, which writes HF_HOME/token) to a token that can read it, and check the id"
            return "the Hub refused \(repo) (HTTP \(status) at \(url)\(message.map { ": \($0)" } ?? "")); \(fix)"
        case .repoNotFound(let repo, let url, let message):
            return "\(repo) was not found on the Hub (\(url)\(message.map { ": \($0)" } ?? "")); check the id (org/name) and the repository type (--repo-type model|dataset)"
        case .revisionNotFound(let repo, let revision, let url):
            return "\(repo) has no revision '\(revision)' (\(url)); give an existing branch, tag or commit hash"
        case .fileNotFound(let repo, let file, let url):
            return "\(repo) has no file '\(file)' (\(url))"
        case .http(let url, let status, let message):
            return "the Hub answered HTTP \(status) for \(url)\(message.map { ": \($0)" } ?? "")"
        case .connection(let url, let reason):
            return "could not reach \(url): \(reason); check the network or HF_ENDPOINT, or work offline from the cache with HF_HUB_OFFLINE=1"
        case .invalidResponse(let url, let problem):
            return "unexpected answer from \(url): \(problem)"
        case .noMatchingFiles(let repo, let revision, let patterns):
            return "no file of \(repo) at revision \(revision) matches \(patterns.joined(separator: ", "))"
        case .cacheWrite(let path, let reason):
            return "could not write the Hugging Face cache at \(path): \(reason); check the permissions or set HF_HUB_CACHE"
        case .lockTimeout(let path, let seconds):
            return "another process held \(path) for \(String(format: "%g", seconds)) s while downloading the same file; wait for it to finish and try again"
        case .conflictingRevisions(let id, let inId, let field):
            return "'\(id)' names revision '\(inId)' after '@' but \(field) names another; give the revision once"
        }
    }
}
