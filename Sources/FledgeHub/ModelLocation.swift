import Foundation
import FledgeJSON

/// Where the model that `model_name_or_path` (or a command's `--model`) names is: a local directory, or
/// a Hub model id (`org/name`, with `@revision` or a separate revision) found in the Hugging Face cache
/// before anything else and downloaded (config, tokenizer, chat template files and the safetensors
/// weights: `model.safetensors`, or the shards its index lists) when missing and not offline.
public enum ModelLocation {
    /// The local directory `nameOrPath`, else the cached or downloaded snapshot of the Hub id: with the
    /// weights, or (`weights: false`, for the tokenizer alone) only its JSON and template files.
    public static func resolve(_ nameOrPath: String, revision: String? = nil, weights: Bool = true,
                               environment: HubEnvironment = HubEnvironment()) throws(HubError) -> URL {
        if let local = localModel(nameOrPath) { return local }
        let (repo, revision) = try hubReference(nameOrPath, revision: revision)
        let downloader = HubDownloader(environment: environment)
        guard weights else {
            return try downloader.snapshot(repo, revision: revision, files: .modelFiles(weights: false), required: ["tokenizer.json"])
        }
        var folder = try downloader.snapshot(repo, revision: revision, files: .model, required: ["config.json"])
        let hasWeights = ["model.safetensors", "model.safetensors.index.json"].contains {
            FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path)
        }
        if !hasWeights && !environment.offline {
            // A snapshot cached without its weights (by `weights: false` or `fledge download --include`).
            folder = try downloader.snapshot(repo, revision: revision, files: .model, preferCache: false)
        }
        let shards = shardNames(in: folder)
        guard !shards.isEmpty else { return folder }
        return try downloader.snapshot(repo, revision: folder.lastPathComponent, files: HubFileSelection(patterns: shards),
                                       required: shards)
    }

    /// The shard files `model.safetensors.index.json` lists in its `weight_map`, sorted; none without a
    /// readable index (loading the checkpoint then says what is wrong with it).
    static func shardNames(in folder: URL) -> [String] {
        guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent("model.safetensors.index.json").path),
              case .object(let weightMap)? = (try? JSONParser.parse(Array(data)))?["weight_map"]
        else { return [] }
        let shards = weightMap.orderedValues.compactMap { value -> String? in
            guard case .string(let shard) = value, !shard.contains("/"), !shard.hasPrefix(".") else { return nil }
            return shard
        }
        return Set(shards).sorted()
    }

    /// The local directory, or the cached snapshot, without any network; none when neither exists.
    public static func cached(_ nameOrPath: String, revision: String? = nil,
                              environment: HubEnvironment = HubEnvironment()) -> URL? {
        if let local = localModel(nameOrPath) { return local }
        guard let (repo, revision) = try? hubReference(nameOrPath, revision: revision) else { return nil }
        return HubCache(root: environment.cacheDirectory).snapshot(repo, revision: revision, required: ["config.json"])
    }

    /// The local model `path` names: a directory, or a GGUF file.
    private static func localModel(_ path: String) -> URL? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory),
              isDirectory.boolValue || path.lowercased().hasSuffix(".gguf") else { return nil }
        return URL(fileURLWithPath: path)
    }

    /// The model repository and revision of `org/name[@revision]`; a revision both after `@` and given
    /// separately must agree. The default revision is `main`.
    static func hubReference(_ reference: String, revision: String?) throws(HubError) -> (HubRepo, String) {
        let (id, inId) = HubRepo.splitRevision(reference)
        if let inId, let revision, inId != revision {
            throw .conflictingRevisions(id: reference, inId: inId, field: "the revision setting ('\(revision)')")
        }
        return (try HubRepo(id: id, kind: .model), inId ?? revision ?? "main")
    }
}
