import Foundation
import FledgeNN
import FledgeTensor

/// A causal language model (`…ForCausalLM`) loaded from a Hugging Face model directory, for
/// generation, scoring and training: the family's decoder and the output head.
public final class LanguageModel: PretrainedModel, @unchecked Sendable {
    /// The output head (`lm_head`, or the embedding when config.json ties them).
    public let head: OutputHead

    /// Loads `directory` (config.json, model.safetensors or shards, generation_config.json).
    /// float16 and bfloat16 weights are converted to float32; float32 ones are memory-mapped. A
    /// sequence classifier's directory is an error naming its `architectures`. A `.gguf` file's
    /// Q8_0, Q4_0 and Q4_K linear weights stay in their blocks unless `ggufWeights` is `.float`.
    /// With `quantization`, each decoder linear weight is quantized as it is read
    /// (`BaseQuantization`), so the float copy of the whole base never exists.
    public convenience init(directory: URL, ggufWeights: GGUFWeights = .keep, quantization: BaseQuantization? = nil) throws {
        var source = try ModelSource(directory: directory, ggufWeights: ggufWeights)
        source.quantization = quantization
        try self.init(source)
    }

    /// A model from a config.json object and tensors named as in a checkpoint; throws as loading
    /// a directory does.
    public convenience init(configJSON: JSONObject, weights: [String: Tensor]) throws {
        try self.init(ModelSource(configJSON: configJSON, weights: weights))
    }

    /// A model from a config.json object whose weights `make` creates one at a time from its name
    /// and shape (benchmarks build random models this way), called once per weight in the order
    /// of `PretrainedModel.expectedWeights`; with `quantization`, each decoder linear weight is
    /// quantized as soon as it is made, so the float copy of the whole base never exists.
    public convenience init(configJSON: JSONObject, quantization: BaseQuantization? = nil,
                            making make: @escaping (_ name: String, _ shape: [Int]) throws -> Tensor) throws {
        var source = try ModelSource(configJSON: configJSON, making: make)
        source.quantization = quantization
        try self.init(source)
    }

    init(_ source: ModelSource) throws {
        try source.requireKind(classifier: false)
        let decoder = try source.decoder()
        let config = source.config
        head = config.tieWordEmbeddings
            ? OutputHead(tiedTo: decoder.embedding, softCap: decoder.logitSoftCap)
            : OutputHead(vocabularySize: config.vocabSize, hiddenSize: config.hiddenSize, softCap: decoder.logitSoftCap)
        try super.init(source, decoder: decoder, peftTaskType: "CAUSAL_LM")
    }

    /// The decoder (`model`), then the output head (`lm_head`).
    public override func members(_ visitor: ModuleVisitor) {
        super.members(visitor)
        visitor.child("lm_head", head)
    }

    /// log p(token t | tokens before t) for t = 1 … n−1 of each sequence (`temperature` divides
    /// the logits first, as TRL does). Sequences are scored together as a left-padded batch, for
    /// inference: without autograd, so no dropout and nothing kept.
    public func tokenLogProbs(_ sequences: [[Int]], temperature: Float = 1) -> [[Float]] {
        if config.rope.kind == .dynamic && sequences.count > 1 {
            // Dynamic NTK scaling depends on the longest sequence in a pass: score each alone.
            return sequences.flatMap { tokenLogProbs([$0], temperature: temperature) }
        }
        let batch = LeftPaddedBatch(sequences, padId: 0)
        return Tensor.withoutGrad { tokenLogProbs(batch, sequences, temperature: temperature) }
    }

    private func tokenLogProbs(_ batch: LeftPaddedBatch, _ sequences: [[Int]], temperature: Float) -> [[Float]] {
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
}
