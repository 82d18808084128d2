import Foundation
import FledgeNN
import FledgeTensor

/// What a causal language model (`LanguageModel`) and a sequence classifier
/// (`SequenceClassifier`) loaded from a Hugging Face model directory share: the config, the
/// family's decoder (`model.*` in the checkpoint), LoRA adapters, training and saving. Each kind
/// adds its head.
public class PretrainedModel: Module, @unchecked Sendable {
    public let directory: URL
    public let config: ModelConfig
    let decoder: Decoder
    /// The options the attached LoRA adapters were made with; nil without adapters.
    public internal(set) var loraOptions: LoRAOptions?
    /// The modules trained whole beside the adapters (PEFT's `modules_to_save`), as given, and their
    /// weights' original and trained tensors; empty when none train (see `trainModulesFully`).
    var modulesToSave: [String] = []
    var savedModuleWeights: [SavedModuleWeight] = []
    /// Sampling defaults and EOS ids from generation_config.json (or config.json).
    public let generationConfig: GenerationConfig
    /// The text of config.json (written again by `saveModel`).
    let configData: Data
    /// PEFT's `task_type` of this kind of model (`CAUSAL_LM`, `SEQ_CLS`), for adapter configs.
    let peftTaskType: String

    /// Loads `directory` as the kind of model its config.json's `architectures` name: a
    /// `SequenceClassifier` for `…ForSequenceClassification`, else a `LanguageModel`; a `.gguf`
    /// file's linear weights are held as `ggufWeights` says. With `quantization`, each decoder
    /// linear weight is quantized as it is read (`BaseQuantization`).
    public static func load(directory: URL, ggufWeights: GGUFWeights = .keep, quantization: BaseQuantization? = nil) throws -> PretrainedModel {
        var source = try ModelSource(directory: directory, ggufWeights: ggufWeights)
        source.quantization = quantization
        return source.config.isSequenceClassifier ? try SequenceClassifier(source) : try LanguageModel(source)
    }

    /// A model around `decoder` whose head the subclass has built; every weight is then taken from
    /// the source's checkpoint (when it has one), all problems reported in one error.
    init(_ source: ModelSource, decoder: Decoder, peftTaskType: String) throws {
        directory = source.directory
        config = source.config
        configData = source.configData
        generationConfig = source.generationConfig
        self.decoder = decoder
        self.peftTaskType = peftTaskType
        if let checkpoint = source.checkpoint { try checkpoint.load(into: self, quantization: source.quantization) }
    }

    /// The decoder (`model`); each kind adds its head.
    public func members(_ visitor: ModuleVisitor) {
        visitor.child("model", decoder)
    }

    /// The name and shape of every tensor a checkpoint of `configJSON` holds (a causal LM's or a
    /// sequence classifier's, as its `architectures` say).
    public static func expectedWeights(configJSON: JSONObject) throws -> [(String, [Int])] {
        let source = try ModelSource(configJSON: configJSON, weights: nil)
        let model: PretrainedModel = source.config.isSequenceClassifier ? try SequenceClassifier(source) : try LanguageModel(source)
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

    /// With `gradientCheckpointing` on, checkpoint only the training passes whose activations, as
    /// ``trainingActivationBytesPerToken`` estimates them, would take more than this many bytes
    /// (`gradient_checkpointing: auto`); nil checkpoints every training pass.
    public var checkpointingMemoryBudget: Int? {
        get { decoder.checkpointingTokenLimit.map { $0 * trainingActivationBytesPerToken } }
        set { decoder.checkpointingTokenLimit = newValue.map { $0 / trainingActivationBytesPerToken } }
    }

    /// An estimate of the bytes of activations a training pass without checkpointing keeps for
    /// backward, per token: in each decoder layer the two norms' inputs (the residual stream and the
    /// sum after attention, 2 × hidden; their outputs are made again in the backward), the rotated
    /// q and the attention output (2 × heads · head_dim), k and v (2 × kv_heads · head_dim), and the
    /// MLP's gate and up (2 × intermediate; the gated product is made again), in float32.
    public var trainingActivationBytesPerToken: Int {
        let perLayer = 2 * config.hiddenSize + 2 * config.heads * config.headDim + 2 * config.kvHeads * config.headDim
            + 2 * config.intermediateSize
        return Swift.max(config.layers * perLayer * MemoryLayout<Float>.size, 1)
    }

    func rotaryState() -> RotaryState {
        RotaryState(scaling: config.rope, headDim: config.headDim, maxPositions: config.maxPositionEmbeddings)
    }

    /// A KV cache for `batch` rows of `capacity` positions; with `keepingWindows`, each
    /// sliding-window layer keeps only its window (for passes of at most a window's tokens: decoding).
    func makeCache(batch: Int, capacity: Int, keepingWindows: Bool = false) -> KVCache {
        KVCache(layers: config.layers, batch: batch, capacity: capacity, kvHeads: config.kvHeads, headDim: config.headDim,
                windows: keepingWindows ? decoder.layers.map(\.slidingWindow) : nil)
    }

    /// Final hidden states `[batch, length, hidden]` (after the last norm) of left-padded
    /// sequences, with position ids counted over the real tokens of each row, as transformers'
    /// `generate` derives them from the attention mask.
    public func hiddenStates(_ batch: LeftPaddedBatch) -> Tensor {
        let input = ForwardInput(ids: batch.ids, batch: batch.rows, length: batch.length, positions: batch.positions,
                                 keyPadding: batch.hasPadding ? batch.mask.map(Float.init) : nil)
        return decoder.norm(decoder.forward(input, cache: nil, rotary: rotaryState()))
    }
}
