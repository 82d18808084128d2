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
}

/// The embedding, decoder layers and final norm of a Llama-shaped model (`model.*` in the
/// checkpoint).
final class Decoder: Module, @unchecked Sendable {
    let config: ModelConfig
    let embedding: Embedding
    let layers: [DecoderLayer]
    let norm: RMSNorm
    /// Whether training passes recompute each layer in backward instead of keeping its activations.
    var gradientCheckpointing = false

    /// A decoder of `config`'s shape with placeholder weights, to be loaded.
    init(config: ModelConfig, family: ModelFamily) {
        self.config = config
        embedding = Embedding(vocabularySize: config.vocabSize, dimension: config.hiddenSize)
        layers = (0..<config.layers).map { DecoderLayer(config: config, family: family, slidingWindow: config.slidingWindows[$0]) }
        norm = RMSNorm(dimension: config.hiddenSize, eps: config.rmsNormEps)
    }

    /// `embed_tokens`, `layers.0` … and `norm`.
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
        let table = rotary.table(maxPosition: input.positions.max() ?? 0)
        let start = cache?.length ?? 0
        let checkpointing = gradientCheckpointing && cache == nil && GradMode.enabled
        var x = embedding(input.ids, shape: [input.batch, input.length])
        for (index, layer) in layers.enumerated() {
            x = checkpointing
                ? layer.checkpointedForward(x, input, table: table)
                : layer.forward(x, input, table: table, cache: cache, index: index, start: start)
        }
        cache?.length = start + input.length
        return x
    }
}
