/// A decoder family: the `model_type` of config.json it reads, the fields only it reads (its
/// `Config`), and the decoder it builds from them out of the shared blocks. A family is one file
/// (`Llama.swift`, `Mistral.swift`, `Qwen2.swift`, `Qwen3.swift`) and one entry in `ModelFamilies.all`.
protocol ModelFamily: Sendable {
    /// The family's own fields of config.json.
    associatedtype Config
    /// config.json's `model_type`.
    static var modelType: String { get }
    /// Reads the family's fields; errors name the file and the field.
    static func config(_ reader: ConfigReader, shared: ModelConfig) throws -> Config
    /// The decoder `config` describes, with placeholder weights to be loaded.
    static func decoder(_ config: Config, shared: ModelConfig) -> Decoder
    /// The config.json field naming the MLP's activation, and the one value Fledge implements.
    static var activation: (field: String, supported: String) { get }
    /// `tie_word_embeddings` when config.json leaves it out (transformers' default for the family).
    static var tiesWordEmbeddingsByDefault: Bool { get }
    /// Whether the family reads `longrope` scaling and `partial_rotary_factor` (Phi-3). Other
    /// families refuse them: transformers' versions of them ignore `partial_rotary_factor`.
    static var readsLongRope: Bool { get }
}

extension ModelFamily {
    /// Llama-shaped families: `hidden_act` `silu`.
    static var activation: (field: String, supported: String) { ("hidden_act", "silu") }
    static var tiesWordEmbeddingsByDefault: Bool { false }
    static var readsLongRope: Bool { false }
}

/// The families Fledge implements, by `model_type`.
public enum ModelFamilies {
    static let all: [any ModelFamily.Type] = [Llama.self, Mistral.self, Qwen2.self, Qwen3.self,
                                              Gemma2.self,
                                              Gemma3Text.self,
                                              Phi3.self,
                                              SmolLM3.self,
                                              OLMo2.self]

    /// The `model_type` values Fledge reads.
    public static var supportedNames: [String] { all.map { $0.modelType } }

    static func family(for modelType: String) -> (any ModelFamily.Type)? { all.first { $0.modelType == modelType } }

    /// The decoder of the config.json `reader` reads, whose shared fields are `shared`, with
    /// placeholder weights to be loaded.
    static func decoder(_ reader: ConfigReader, shared: ModelConfig) throws -> Decoder {
        guard let family = family(for: shared.modelType) else {
            throw ModelError.unsupportedModelType(file: reader.file, modelType: shared.modelType, supported: supportedNames)
        }
        return try decoder(family, reader, shared: shared)
    }

    private static func decoder<Family: ModelFamily>(_ family: Family.Type, _ reader: ConfigReader, shared: ModelConfig) throws -> Decoder {
        if !Family.readsLongRope {
            let field = reader.has("rope_parameters") ? "rope_parameters" : "rope_scaling"
            if shared.rope.kind == .longrope {
                throw ModelError.invalidConfig(file: reader.file, field: "\(field).rope_type",
                                               problem: "is 'longrope'; Fledge reads it for phi3 only, not \(Family.modelType)")
            }
            if shared.rope.partialRotaryFactor != 1 {
                throw ModelError.invalidConfig(file: reader.file, field: "partial_rotary_factor",
                                               problem: "is \(shared.rope.partialRotaryFactor); Fledge supports only 1 "
                                                   + "(the whole head rotated) for \(Family.modelType)")
            }
        }
        return Family.decoder(try Family.config(reader, shared: shared), shared: shared)
    }
}
