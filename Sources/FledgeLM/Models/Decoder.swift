import FledgeNN
import FledgeTensor

/// The inputs of one forward pass over `[batch, length]` new tokens.
struct ForwardInput {
    let ids: [Int]
    let batch: Int
    let length: Int
    /// Position id of each new token (`batch · length`), from the attention mask.
    let positions: [Int]
    /// 1 for a real key, 0 for padding, over all keys (`batch · keys`), or nil for none.
    let keyPadding: [Float]?
    /// For flat tokens (`batch` 1: a ``SharedPrefixBatch`` or a ``PaddingFreeBatch``), how attention
    /// regroups them; nil for ordinary rows.
    var regrouping: (any FlatTokenAttention)? = nil
}

/// The embedding, decoder layers and final norm of a model (`model.*` in the checkpoint:
/// `embed_tokens`, `layers.0` …, `norm`); the layers are the family's.
final class Decoder: Module, @unchecked Sendable {
    let embedding: Embedding
    let layers: [any DecoderLayer]
    let norm: RMSNorm
    /// What the embeddings are multiplied by before the first layer (Gemma: √hidden_size), or nil.
    let embeddingScale: Float?
    /// The soft cap the family puts on the output head's logits (Gemma's `final_logit_softcapping`), or nil.
    let logitSoftCap: Float?
    /// Whether training passes recompute each layer in backward instead of keeping its activations.
    var gradientCheckpointing = false
    /// With `gradientCheckpointing` on, the most tokens (`batch · length`) a training pass may have
    /// and still keep its activations; nil checkpoints every training pass.
    var checkpointingTokenLimit: Int? = nil
    /// NEFTune noise added to the embeddings of training passes, or nil for none.
    var neftuneNoise: NEFTuneNoise? = nil
    /// Where noised passes are recorded, or nil.
    var neftunePassLog: NEFTunePassLog? = nil

    /// A decoder of `config`'s shape around `layers`, with placeholder embedding and norm weights;
    /// the final norm scales by `normWeightOffset + weight`, the embeddings are multiplied by
    /// `embeddingScale` and the output head's logits soft-capped at `logitSoftCap` when given.
    init(config: ModelConfig, layers: [any DecoderLayer], normWeightOffset: Float = 0, embeddingScale: Float? = nil,
         logitSoftCap: Float? = nil) {
        embedding = Embedding(vocabularySize: config.vocabSize, dimension: config.hiddenSize)
        self.layers = layers
        norm = RMSNorm(dimension: config.hiddenSize, eps: config.rmsNormEps, weightOffset: normWeightOffset)
        self.embeddingScale = embeddingScale
        self.logitSoftCap = logitSoftCap
    }

    func members(_ visitor: ModuleVisitor) {
        visitor.child("embed_tokens", embedding)
        for (index, layer) in layers.enumerated() { visitor.child("layers.\(index)", layer) }
        visitor.child("norm", norm)
    }

    /// Hidden states `[batch, length, hidden]` before the final norm. With a cache, the new
    /// tokens follow the cached ones: their keys and values are appended to it and the queries
    /// attend to every cached key. With `gradientCheckpointing` on, a pass that records
    /// gradients (and has no cache) keeps only each layer's input and recomputes the layer in
    /// backward.
    func forward(_ input: ForwardInput, cache: KVCache?, rotary: RotaryState) -> Tensor {
        let pass = DecoderPass(input: input, rotary: rotary.table(maxPosition: input.positions.max() ?? 0), cache: cache,
                               start: cache?.length ?? 0)
        let checkpointing = gradientCheckpointing && cache == nil && GradMode.enabled
            && checkpointingTokenLimit.map { input.batch * input.length > $0 } ?? true
        var x = embedding(input.ids, shape: [input.batch, input.length])
        if let embeddingScale { x = x * embeddingScale }
        if neftuneNoise?.isKeyedAndActive ?? false {
            precondition(input.regrouping == nil, "keyed NEFTune noise needs ordinary padded rows, not flat regrouped tokens")
        }
        x = neftuneNoise?.apply(to: x, positions: input.positions, log: neftunePassLog) ?? x
        for (index, layer) in layers.enumerated() {
            x = checkpointing ? checkpointed(layer, x, pass) : layer(x, pass, layer: index)
        }
        cache?.length = pass.start + input.length
        return x
    }

    /// `layer` without a cache under gradient checkpointing: only `x` is kept, and backward runs
    /// the layer again. The recomputation replays the dropout masks of the first pass and then
    /// leaves the adapters' generators where later passes have taken them.
    private func checkpointed(_ layer: any DecoderLayer, _ x: Tensor, _ pass: DecoderPass) -> Tensor {
        let adapters = layer.namedModules.compactMap { ($0.1 as? Linear)?.adapter as? LoRAAdapter }
        let generators = adapters.map(\.dropoutGenerator)
        var isRecomputation = false
        let precision = Autocast.precision
        var parameters = layer.namedParameters.map(\.1)
        for adapter in adapters { parameters += [adapter.a, adapter.b] + (adapter.magnitude.map { [$0] } ?? []) }
        return Tensor.checkpointed(inputs: [x], parameters: parameters) { inputs in
            let resume = isRecomputation ? adapters.map(\.dropoutGenerator) : nil
            isRecomputation = true
            for (adapter, generator) in zip(adapters, generators) { adapter.dropoutGenerator = generator }
            defer {
                if let resume { for (adapter, generator) in zip(adapters, resume) { adapter.dropoutGenerator = generator } }
            }
            // The recomputation runs at the precision of the first pass, whatever scope backward runs in.
            return Autocast.$precision.withValue(precision) { layer(inputs[0], pass, layer: 0) }
        }
    }
}
