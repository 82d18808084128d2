/// A repository on the Hub: its id (`org/name`, or `name` for a few old repos) and its type.
public struct HubRepo: Sendable, Hashable, CustomStringConvertible {
    /// The two repository types Fledge reads.
    public enum Kind: String, Sendable, CaseIterable {
        case model, dataset
    }

    public let id: String
    public let kind: Kind

    /// Checks the id as `huggingface_hub`'s `validate_repo_id` does: letters, digits, `-`, `_`, `.`, at
    /// most one `/`, no `--` or `..`, at most 96 characters.
    public init(id: String, kind: Kind) throws(HubError) {
        guard HubRepo.isValidId(id) else { throw .invalidRepoId(id) }
        self.id = id
        self.kind = kind
    }

    /// Whether `text` has the form of a Hub id (a local path that exists should be tried first).
    public static func isValidId(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), text.count <= 96, !text.contains("--"), !text.contains("..") else { return false }
        return parts.allSatisfy { part in
            !part.isEmpty && !part.hasPrefix("-") && !part.hasPrefix(".") && !part.hasSuffix("-") && !part.hasSuffix(".")
                && part.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)) }
        }
    }

    /// Splits `org/name@revision` into the id and the revision (none without `@`).
    public static func splitRevision(_ reference: String) -> (id: String, revision: String?) {
        guard let at = reference.firstIndex(of: "@") else { return (reference, nil) }
        return (String(reference[..<at]), String(reference[reference.index(after: at)...]))
    }

    /// The cache folder's name: `models--org--name` or `datasets--org--name`.
    public var folderName: String { "\(kind.rawValue)s--" + id.replacingOccurrences(of: "/", with: "--") }

    /// The path prefix of the repository's files on the Hub: none for models, `datasets/` for datasets.
    var urlPrefix: String { kind == .model ? "" : "\(kind.rawValue)s/" }

    public var description: String { "\(kind.rawValue) \(id)" }
}
