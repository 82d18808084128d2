import Foundation
import FledgeTensor

extension ModelSource {
    /// A model read from a GGUF file: the config its metadata describes (`GGUFModelConfig`), the
    /// special ids as generation defaults, and its tensors under Hugging Face names, the linear
    /// weights kept in their blocks or decoded to float32 as `weights` says (`Checkpoint(gguf:)`).
    init(gguf url: URL, weights: GGUFWeights) throws {
        let file = try GGUFFile(url: url)
        let architecture = try GGUFArchitecture(file)
        let json = try GGUFModelConfig.configJSON(file, architecture: architecture)
        let configData = Data(JSONWriter(indent: 2).string(.object(json)).utf8)
        let reader = ConfigReader(file: url.path, object: json)
        let config = try ModelConfig(reader: reader)
        let checkpoint = try Checkpoint(gguf: file, architecture: architecture, heads: config.heads, kvHeads: config.kvHeads,
                                        weights: weights)
        if config.tieWordEmbeddings { checkpoint.ignore("lm_head.weight") }
        self.init(directory: url, reader: reader, config: config,
                  configData: configData,
                  generationConfig: GenerationConfig(eosTokenIds: config.eosTokenIds, padTokenId: config.padTokenId),
                  checkpoint: checkpoint)
    }

    /// Whether `url` names a GGUF file rather than a model directory.
    static func isGGUF(_ url: URL) -> Bool { url.pathExtension.lowercased() == "gguf" }
}
