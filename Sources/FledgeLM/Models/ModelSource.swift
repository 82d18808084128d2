import Foundation
import FledgeTensor

/// What a model is built from: config.json read once (its shared fields, and its reader for the
/// family's own), the config text `saveModel` writes back, the generation defaults, and the
/// checkpoint its weights are taken from — none when the model is only declared, for
/// `expectedWeights` — and how the decoder's linear weights are quantized as they load.
struct ModelSource {
    let directory: URL
    let reader: ConfigReader
    var config: ModelConfig
    var configData: Data
    let generationConfig: GenerationConfig
    let checkpoint: Checkpoint?
    var quantization: BaseQuantization?

    /// The model directory's config.json, generation_config.json and safetensors files, or a
    /// `.gguf` file (`init(gguf:weights:)`, its linear weights held as `ggufWeights` says).
    init(directory: URL, ggufWeights: GGUFWeights = .keep) throws {
        if Self.isGGUF(directory) {
            self = try ModelSource(gguf: directory, weights: ggufWeights)
            return
        }
        let configURL = directory.appendingPathComponent("config.json")
        self.directory = directory
        reader = try ConfigReader(file: configURL.path)
        config = try ModelConfig(reader: reader)
        configData = try Data(contentsOf: configURL)
        let checkpoint = try Checkpoint(directory: directory)
        generationConfig = try GenerationConfig(directory: directory, config: config)
        if config.tieWordEmbeddings { checkpoint.ignore("lm_head.weight") }
        self.checkpoint = checkpoint
    }

    /// A config.json object and, unless the model is only declared, its tensors named as in a
    /// checkpoint.
    init(configJSON: JSONObject, weights: [String: Tensor]?) throws {
        try self.init(configJSON: configJSON, checkpoint: weights.map { Checkpoint(tensors: $0, description: "(in memory)") })
    }

    /// A config.json object whose tensors `make` creates one at a time, by name and shape, as the
    /// model loads (benchmarks build random models this way): `make` is called once per tensor, in
    /// the order of `PretrainedModel.expectedWeights`.
    init(configJSON: JSONObject, making make: @escaping (String, [Int]) throws -> Tensor) throws {
        let declared = try PretrainedModel.expectedWeights(configJSON: configJSON)
        let deferred = Dictionary(uniqueKeysWithValues: declared.map { name, shape in
            (name, DeferredTensor(shape: shape) { try make(name, shape) })
        })
        try self.init(configJSON: configJSON, checkpoint: Checkpoint(deferred: deferred, description: "(in memory)"))
    }

    private init(configJSON: JSONObject, checkpoint: Checkpoint?) throws {
        directory = URL(fileURLWithPath: "(in memory)")
        reader = ConfigReader(file: "config", object: configJSON)
        config = try ModelConfig(reader: reader)
        configData = Data(JSONWriter(indent: 2).string(.object(configJSON)).utf8)
        generationConfig = GenerationConfig(eosTokenIds: config.eosTokenIds, padTokenId: config.padTokenId)
        if config.tieWordEmbeddings { checkpoint?.ignore("lm_head.weight") }
        self.checkpoint = checkpoint
    }

    init(directory: URL, reader: ConfigReader, config: ModelConfig, configData: Data, generationConfig: GenerationConfig,
         checkpoint: Checkpoint?) {
        self.directory = directory
        self.reader = reader
        self.config = config
        self.configData = configData
        self.generationConfig = generationConfig
        self.checkpoint = checkpoint
    }

    /// The family's decoder, with placeholder weights.
    func decoder() throws -> Decoder {
        try ModelFamilies.decoder(reader, shared: config)
    }

    /// Throws unless config.json's `architectures` name a sequence classifier (`classifier`) or a
    /// causal language model (otherwise), naming what they are and what is needed.
    func requireKind(classifier: Bool) throws {
        guard config.isSequenceClassifier != classifier else { return }
        let named = config.architectures.isEmpty
            ? "is missing, which means a causal language model"
            : "is \(config.architectures.map { "'\($0)'" }.joined(separator: ", ")): "
                + (config.isSequenceClassifier ? "a sequence classifier" : "a causal language model")
        let needed = classifier
            ? "this needs a sequence classifier (…ForSequenceClassification, with a `score` head)"
            : "this needs a causal language model (…ForCausalLM)"
        throw ModelError.invalidConfig(file: reader.file, field: "architectures", problem: "\(named); \(needed)")
    }
}
