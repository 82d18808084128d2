import Foundation
import FledgeNN
import FledgeTensor

/// A Hugging Face model directory loaded for inference and training: a causal language model
/// (`…ForCausalLM`) or a sequence classifier (`…ForSequenceClassification`, the `score` head
/// of reward and value models).
public final class LanguageModel: Module, @unchecked Sendable {
    public let directory: URL
    public let config: ModelConfig
    let decoder: Decoder
    /// The output head (`lm_head`, or the embedding when tied); nil for a classifier.
    public let head: OutputHead?
    /// The options the attached LoRA adapters were made with; nil without adapters.
    public internal(set) var loraOptions: LoRAOptions?
    /// The classification head `[numLabels, hidden]`; nil for a causal LM.
    public let scoreHead: Linear?
    /// Sampling defaults and EOS ids from generation_config.json (or config.json).
    public let generationConfig: GenerationConfig
    /// The text of config.json (written again by `saveModel`).
    let configData: Data

    /// Loads `directory` (config.json, model.safetensors or shards, generation_config.json).
    /// float16 and bfloat16 weights are converted to float32; float32 ones are memory-mapped.
    public convenience init(directory: URL) throws {
        let configURL = directory.appendingPathComponent("config.json")
        let reader = try ConfigReader(file: configURL.path)
        let config = try ModelConfig(reader: reader)
        let configData = try Data(contentsOf: configURL)
        let checkpoint = try Checkpoint(directory: directory)
        try self.init(declaring: config, reader: reader, directory: directory, configData: configData,
                      generationConfig: try GenerationConfig(directory: directory, config: config))
        try load(from: checkpoint)
    }

    /// Loads a causal LM directory as a sequence classifier with a new `score` head `[labels, hidden]`
    /// drawn from N(0, `initializer_range`²) with `seed`, as transformers initialises a head the
    /// checkpoint lacks (`AutoModelForSequenceClassification.from_pretrained` of a causal LM); the output
    /// head is dropped. A PPO value model starts this way from the policy when there is no reward model.
    public convenience init(directory: URL, addingScoreHead labels: Int, seed: UInt64) throws {
        let reader = try ConfigReader(file: directory.appendingPathComponent("config.json").path)
        var config = try ModelConfig(reader: reader)
        guard !config.isSequenceClassifier else {
            throw ModelError.invalidConfig(file: directory.appendingPathComponent("config.json").path, field: "architectures",
                                           problem: "already names a sequence classifier; load it as it is")
        }
        let configURL = directory.appendingPathComponent("config.json")
        guard case .object(var fields) = try JSONParser.parse(Array(try Data(contentsOf: configURL))) else {
            throw ModelError.invalidConfig(file: configURL.path, field: "(root)", problem: "is not a JSON object")
        }
        let range = Float(fields["initializer_range"].flatMap { if case .double(let v) = $0 { v } else { nil } } ?? 0.02)
        config.architectures = config.architectures.map { $0.replacingOccurrences(of: "ForCausalLM", with: "ForSequenceClassification") }
        if !config.isSequenceClassifier { config.architectures = [config.modelType.capitalized + "ForSequenceClassification"] }
        config.numLabels = labels
        fields["architectures"] = .array(config.architectures.map(JSONValue.string))
        fields["num_labels"] = .int(labels)
        let checkpoint = try Checkpoint(directory: directory)
        if !config.tieWordEmbeddings { checkpoint.ignore("lm_head.weight") }
        var generator = SeededGenerator(seed: seed)
        checkpoint.add("score.weight", Tensor.normal([labels, config.hiddenSize], standardDeviation: range, using: &generator))
        try self.init(declaring: config, reader: reader, directory: directory,
                      configData: Data(JSONWriter(indent: 2).string(.object(fields)).utf8),
                      generationConfig: try GenerationConfig(directory: directory, config: config))
        try load(from: checkpoint)
    }

    /// A model from a config.json object and tensors named as in a checkpoint (benchmarks
    /// build random models this way); throws as loading a directory does.
    public convenience init(configJSON: [String: Any], weights: [String: Tensor]) throws {
        let reader = ConfigReader(file: "config", object: configJSON)
        let config = try ModelConfig(reader: reader)
        try self.init(declaring: config, reader: reader, directory: URL(fileURLWithPath: "(in memory)"),
                      configData: try JSONSerialization.data(withJSONObject: configJSON, options: [.sortedKeys]),
                      generationConfig: GenerationConfig(eosTokenIds: config.eosTokenIds, padTokenId: config.padTokenId))
        try load(from: Checkpoint(tensors: weights, description: "(in memory)"))
    }

    /// A model of the shape config.json (`reader`, whose shared fields are `config`) describes,
    /// with placeholder weights to be loaded.
    private init(declaring config: ModelConfig, reader: ConfigReader, directory: URL, configData: Data,
                 generationConfig: GenerationConfig) throws {
        self.directory = directory
        self.config = config
        self.configData = configData
        self.generationConfig = generationConfig
        decoder = try ModelFamilies.decoder(reader, shared: config)
        if config.isSequenceClassifier {
            scoreHead = Linear(inFeatures: config.hiddenSize, outFeatures: config.numLabels, bias: false)
            head = nil
        } else {
            head = config.tieWordEmbeddings
                ? OutputHead(tiedTo: decoder.embedding) : OutputHead(vocabularySize: config.vocabSize, hiddenSize: config.hiddenSize)
            scoreHead = nil
        }
    }

    /// Takes every weight from `checkpoint` (a tied checkpoint may hold a copy of the head).
    private func load(from checkpoint: Checkpoint) throws {
        if config.tieWordEmbeddings { checkpoint.ignore("lm_head.weight") }
        try checkpoint.load(into: self)
    }

    /// The decoder (`model`), then the classifier's `score` head or the output head (`lm_head`).
    public func members(_ visitor: ModuleVisitor) {
        visitor.child("model", decoder)
        if let scoreHead { visitor.child("score", scoreHead) }
        if let head { visitor.child("lm_head", head) }
    }

    public var isClassifier: Bool { scoreHead != nil }

    /// The name and shape of every tensor a checkpoint of `config` holds.
    public static func expectedWeights(configJSON: [String: Any]) throws -> [(String, [Int])] {
        let reader = ConfigReader(file: "config", object: configJSON)
        let model = try LanguageModel(declaring: try ModelConfig(reader: reader), reader: reader, directory: URL(fileURLWithPath: "(in memory)"),
                                      configData: Data(), generationConfig: GenerationConfig())
        return model.namedParameters.map { ($0.0, $0.1.shape) }
    }

    /// Every weight tensor by its checkpoint name (for optimizers, adapters and saving); a tied
    /// output head is the embedding and appears once, as `model.embed_tokens.weight`.
    public var namedWeights: [(String, Tensor)] { namedParameters }

    /// Whether training passes keep only each decoder layer's input and recompute the layer in
    /// backward (gradient checkpointing): activation memory of one layer instead of all, for
    /// about one more forward pass of compute. Gradients are the same either way.
    public var gradientCheckpointing: Bool {
        get { decoder.gradientCheckpointing }
        set { decoder.gradientCheckpointing = newValue }
    }

    func rotaryState() -> RotaryState {
        RotaryState(scaling: config.rope, headDim: config.headDim, maxPositions: config.maxPositionEmbeddings)
    }

    func makeCache(batch: Int, capacity: Int) -> KVCache {
        KVCache(layers: config.layers, batch: batch, capacity: capacity, kvHeads: config.kvHeads, headDim: config.headDim)
    }

    /// Final hidden states `[batch, length, hidden]` (after the last norm) of left-padded
    /// sequences, with position ids counted over the real tokens of each row, as transformers'
    /// `generate` derives them from the attention mask.
    public func hiddenStates(_ batch: LeftPaddedBatch) -> Tensor {
        let input = ForwardInput(ids: batch.ids, batch: batch.rows, length: batch.length, positions: batch.positions,
                                 keyPadding: batch.hasPadding ? batch.mask.map(Float.init) : nil)
        return decoder.norm(decoder.forward(input, cache: nil, rotary: rotaryState()))
    }

    /// log p(token t | tokens before t) for t = 1 … n−1 of each sequence (`temperature` divides
    /// the logits first, as TRL does). Sequences are scored together as a left-padded batch, for
    /// inference: without autograd, so no dropout and nothing kept.
    public func tokenLogProbs(_ sequences: [[Int]], temperature: Float = 1) -> [[Float]] {
        guard let head else { preconditionFailure("tokenLogProbs needs a causal LM; \(directory.path) is a classifier") }
        if config.rope.kind == .dynamic && sequences.count > 1 {
            // Dynamic NTK scaling depends on the longest sequence in a pass: score each alone.
            return sequences.flatMap { tokenLogProbs([$0], temperature: temperature) }
        }
        let batch = LeftPaddedBatch(sequences, padId: 0)
        return Tensor.withoutGrad { tokenLogProbs(batch, sequences, head: head, temperature: temperature) }
    }

    private func tokenLogProbs(_ batch: LeftPaddedBatch, _ sequences: [[Int]], head: OutputHead, temperature: Float) -> [[Float]] {
        let hidden = hiddenStates(batch).reshaped([batch.rows * batch.length, config.hiddenSize])
        var rows: [Int] = [], targets: [Int] = []
        for (r, sequence) in sequences.enumerated() where sequence.count > 1 {
            let first = r * batch.length + batch.length - sequence.count
            for t in 1..<sequence.count {
                rows.append(first + t - 1)
                targets.append(sequence[t])
            }
        }
        guard !rows.isEmpty else { return sequences.map { _ in [] } }
        let selected = hidden.indexSelect(rows, indexShape: [rows.count])
        let values = head.logProbs(selected, targets: targets, temperature: temperature).logProbs.toArray()
        var result: [[Float]] = [], offset = 0
        for sequence in sequences {
            let n = max(sequence.count - 1, 0)
            result.append(Array(values[offset..<offset + n]))
            offset += n
        }
        return result
    }

    /// The classifier's scores (`[numLabels]` logits) at the last token of each sequence — the
    /// reward of a reward model. Sequences are scored together as a left-padded batch, without autograd.
    public func classify(_ sequences: [[Int]]) -> [[Float]] {
        guard let scoreHead else { preconditionFailure("classify needs a sequence classifier; \(directory.path) is a causal LM") }
        if config.rope.kind == .dynamic && sequences.count > 1 { return sequences.flatMap { classify([$0]) } }
        let batch = LeftPaddedBatch(sequences, padId: config.padTokenId ?? 0)
        let scores = Tensor.withoutGrad {
            let last = hiddenStates(batch).slice(axis: 1, batch.length - 1..<batch.length).reshaped([batch.rows, config.hiddenSize])
            return scoreHead(last).toArray()
        }
        return (0..<batch.rows).map { Array(scores[$0 * config.numLabels..<($0 + 1) * config.numLabels]) }
    }
}

/// Sequences of different lengths left-padded to one length, with the attention mask and the
/// position id of every token (0, 1, … over each row's real tokens; pads get 0).
public struct LeftPaddedBatch: Sendable {
    public let rows: Int
    public let length: Int
    public let ids: [Int]
    public let mask: [Int]
    public let positions: [Int]

    public init(_ sequences: [[Int]], padId: Int) {
        rows = sequences.count
        length = sequences.map(\.count).max() ?? 0
        var ids: [Int] = [], mask: [Int] = [], positions: [Int] = []
        for sequence in sequences {
            let pad = length - sequence.count
            ids += Array(repeating: padId, count: pad) + sequence
            mask += Array(repeating: 0, count: pad) + Array(repeating: 1, count: sequence.count)
            positions += Array(repeating: 0, count: pad) + Array(0..<sequence.count)
        }
        self.ids = ids
        self.mask = mask
        self.positions = positions
    }

    public var hasPadding: Bool { mask.contains(0) }
}
