import Foundation

/// The fields of a Hugging Face `config.json` that every decoder family reads (each family reads
/// its own besides, into its `ModelFamily.Config`), from either config style: transformers 4's
/// top-level `rope_theta` and `rope_scaling`, or transformers 5's `rope_parameters`.
public struct ModelConfig: Sendable {
    public var modelType: String
    public var architectures: [String]
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layers: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var rmsNormEps: Float
    public var tieWordEmbeddings: Bool
    public var maxPositionEmbeddings: Int
    public var rope: RopeScaling
    public var padTokenId: Int?
    public var eosTokenIds: [Int]
    /// Labels of a sequence-classification head (`num_labels`, or the size of `id2label`).
    public var numLabels: Int

    /// Whether the checkpoint is a `…ForSequenceClassification` model (a `score` head).
    public var isSequenceClassifier: Bool { architectures.contains { $0.hasSuffix("ForSequenceClassification") } }
}

extension ModelConfig {
    /// Reads `directory/config.json`.
    public init(directory: URL) throws {
        try self.init(reader: ConfigReader(file: directory.appendingPathComponent("config.json").path))
    }

    init(reader: ConfigReader) throws {
        guard let type = reader.string("model_type") else {
            throw ModelError.invalidConfig(
                file: reader.file, field: "model_type",
                problem: "is missing; it names the architecture (supported: \(ModelFamilies.supportedNames.joined(separator: ", ")))")
        }
        guard let family = ModelFamilies.family(for: type) else {
            throw ModelError.unsupportedModelType(file: reader.file, modelType: type, supported: ModelFamilies.supportedNames)
        }
        modelType = type
        architectures = reader.strings("architectures") ?? []
        vocabSize = try reader.int("vocab_size")
        hiddenSize = try reader.int("hidden_size")
        intermediateSize = try reader.int("intermediate_size")
        layers = try reader.int("num_hidden_layers")
        heads = try reader.int("num_attention_heads")
        kvHeads = try reader.int("num_key_value_heads", default: heads)
        for (field, value) in [("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("intermediate_size", intermediateSize),
                               ("num_hidden_layers", layers), ("num_attention_heads", heads), ("num_key_value_heads", kvHeads)]
        where value <= 0 {
            throw ModelError.invalidConfig(file: reader.file, field: field, problem: "must be positive, got \(value)")
        }
        guard layers <= Self.maximumLayers else {
            throw ModelError.invalidConfig(file: reader.file, field: "num_hidden_layers",
                                           problem: "is \(layers); Fledge reads at most \(Self.maximumLayers) layers")
        }
        guard heads % kvHeads == 0 else {
            throw ModelError.invalidConfig(file: reader.file, field: "num_key_value_heads",
                                           problem: "(\(kvHeads)) must divide num_attention_heads (\(heads))")
        }
        if let dim = try reader.optionalInt("head_dim") {
            headDim = dim
        } else {
            guard hiddenSize % heads == 0 else {
                throw ModelError.invalidConfig(file: reader.file, field: "head_dim",
                                               problem: "is missing and hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(heads)")
            }
            headDim = hiddenSize / heads
        }
        guard headDim > 0, headDim % 2 == 0 else {
            throw ModelError.invalidConfig(file: reader.file, field: "head_dim",
                                           problem: "must be positive and even for rotary embeddings, got \(headDim)")
        }
        let (activationField, supportedActivation) = family.activation
        if let activation = reader.string(activationField), activation != supportedActivation {
            throw ModelError.invalidConfig(file: reader.file, field: activationField,
                                           problem: "is '\(activation)'; Fledge supports '\(supportedActivation)' for \(type)")
        }
        rmsNormEps = Float(try reader.double("rms_norm_eps", default: 1e-6))
        tieWordEmbeddings = try reader.bool("tie_word_embeddings", default: family.tiesWordEmbeddingsByDefault)
        maxPositionEmbeddings = try reader.int("max_position_embeddings", default: 2048)
        guard maxPositionEmbeddings > 0 else {
            throw ModelError.invalidConfig(file: reader.file, field: "max_position_embeddings",
                                           problem: "must be positive, got \(maxPositionEmbeddings)")
        }
        rope = try RopeScaling(reader: reader)
        padTokenId = try reader.optionalInt("pad_token_id")
        eosTokenIds = try reader.ints("eos_token_id")
        if let labels = reader.dictionary("id2label"), !reader.has("num_labels") {
            numLabels = labels.count
        } else {
            numLabels = try reader.int("num_labels", default: 2)
        }
        guard numLabels > 0 else {
            throw ModelError.invalidConfig(file: reader.file, field: "num_labels", problem: "must be positive, got \(numLabels)")
        }
        try checkSizes(file: reader.file)
    }

    /// More layers than any model has (the largest have a few hundred); it bounds the per-layer
    /// tables a config alone makes Fledge allocate.
    static let maximumLayers = 65_536

    /// Every weight's size in bytes, and their total, must fit in an `Int`: the sizes multiply config
    /// fields, and an overflow would trap. The error names the largest field of the product.
    private func checkSizes(file: String) throws {
        /// A config field and its value, or a constant (no field).
        typealias Factor = (field: String?, value: Int)
        func product(_ what: String, _ factors: [Factor]) throws -> Int {
            var result = 1
            for factor in factors {
                let (next, overflow) = result.multipliedReportingOverflow(by: factor.value)
                guard !overflow else {
                    let largest = factors.filter { $0.field != nil }.max { $0.value < $1.value }!
                    let terms = factors.map { factor in factor.field.map { "\($0) \(factor.value)" } ?? "\(factor.value)" }
                    throw ModelError.invalidConfig(file: file, field: largest.field!, problem: "is \(largest.value): \(what) would "
                        + "need \(terms.joined(separator: " × ")) bytes, more than a 64-bit size holds; check the value")
                }
                result = next
            }
            return result
        }
        let (hidden, bytes): (Factor, Factor) = (("hidden_size", hiddenSize), (nil, MemoryLayout<Float>.size))
        // q, k, v and o (also fused into one [q + 2·kv, hidden] product) take at most 4·q·hidden
        // values, as kv ≤ q; norms and biases take fewer than that again.
        let attention = try product("the attention projections", [(nil, 4), ("num_attention_heads", heads), ("head_dim", headDim),
                                                                   hidden, bytes])
        let mlp = try product("the MLP projections", [(nil, 3), ("intermediate_size", intermediateSize), hidden, bytes])
        let embedding = try product("the embedding", [("vocab_size", vocabSize), hidden, bytes])
        let scoreHead = try product("the score head", [("num_labels", numLabels), hidden, bytes])
        let layerTooLarge = ModelError.invalidConfig(file: file, field: "hidden_size", problem: "is \(hiddenSize): one layer's "
            + "weights would need more bytes than a 64-bit size holds; check it, intermediate_size and num_attention_heads")
        let layer = try attention.checkedAdding(attention, or: layerTooLarge).checkedAdding(mlp, or: layerTooLarge)
        let modelTooLarge = ModelError.invalidConfig(file: file, field: "num_hidden_layers", problem: "is \(layers): the model's "
            + "weights would need more bytes than a 64-bit size holds; check it, hidden_size and vocab_size")
        _ = try product("all layers", [("num_hidden_layers", layers), (nil, layer)])
            .checkedAdding(embedding, or: modelTooLarge).checkedAdding(embedding, or: modelTooLarge)
            .checkedAdding(scoreHead, or: modelTooLarge)
    }
}

private extension Int {
    /// `self + other`, or `error` when the sum does not fit.
    func checkedAdding(_ other: Int, or error: ModelError) throws -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        if overflow { throw error }
        return sum
    }
}
