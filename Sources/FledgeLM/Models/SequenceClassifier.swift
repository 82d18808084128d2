import Foundation
import FledgeNN
import FledgeTensor

/// A sequence classifier (`…ForSequenceClassification`: reward and value models) loaded from a
/// Hugging Face model directory: the family's decoder and the `score` head, read at the last token that
/// is not padding.
public final class SequenceClassifier: PretrainedModel, @unchecked Sendable {
    /// The classification head `score` `[numLabels, hidden]`, without bias.
    public let score: Linear

    /// Loads `directory` (config.json, model.safetensors or shards). float16 and bfloat16 weights
    /// are converted to float32; float32 ones are memory-mapped. A causal language model's
    /// directory is an error naming its `architectures` (see `init(directory:addingScoreHead:seed:)`).
    public convenience init(directory: URL) throws {
        try self.init(ModelSource(directory: directory))
    }

    /// Loads a causal LM directory as a sequence classifier with a new `score` head `[labels, hidden]`
    /// drawn from N(0, `initializer_range`²) with `seed`, as transformers initialises a head the
    /// checkpoint lacks (`AutoModelForSequenceClassification.from_pretrained` of a causal LM); the output
    /// head is dropped. A PPO value model starts this way from the policy when there is no reward model.
    public convenience init(directory: URL, addingScoreHead labels: Int, seed: UInt64) throws {
        var source = try ModelSource(directory: directory)
        guard !source.config.isSequenceClassifier else {
            throw ModelError.invalidConfig(file: source.reader.file, field: "architectures",
                                           problem: "already names a sequence classifier; load it as it is")
        }
        try source.addScoreHead(labels: labels, seed: seed)
        try self.init(source)
    }

    /// A classifier from a config.json object and tensors named as in a checkpoint (benchmarks
    /// build random reward and value models this way); throws as loading a directory does.
    public convenience init(configJSON: JSONObject, weights: [String: Tensor]) throws {
        try self.init(ModelSource(configJSON: configJSON, weights: weights))
    }

    init(_ source: ModelSource) throws {
        try source.requireKind(classifier: true)
        score = Linear(inFeatures: source.config.hiddenSize, outFeatures: source.config.numLabels, bias: false)
        try super.init(source, decoder: try source.decoder(), peftTaskType: "SEQ_CLS")
    }

    /// The decoder (`model`), then the `score` head.
    public override func members(_ visitor: ModuleVisitor) {
        super.members(visitor)
        visitor.child("score", score)
    }

    /// The classifier's scores (`[numLabels]` logits) of each sequence at its last token that is not
    /// padding (``pooledScores(_:)``) — the reward of a reward model. Sequences are scored together as a
    /// left-padded batch, without autograd.
    public func classify(_ sequences: [[Int]]) -> [[Float]] {
        if config.rope.kind == .dynamic && sequences.count > 1 { return sequences.flatMap { classify([$0]) } }
        let scores = Tensor.withoutGrad { pooledScores(sequences).toArray() }
        return sequences.indices.map { Array(scores[$0 * config.numLabels..<($0 + 1) * config.numLabels]) }
    }

    /// The scores `[sequences, numLabels]`, with autograd, of each sequence at its last token whose id is
    /// not `config.padTokenId` (the first token when every token is padding; the last token when the
    /// config has no pad id), as transformers' `…ForSequenceClassification` pools them: a sequence that
    /// ends in pad tokens is read before them. The sequences run as one left-padded batch; positions
    /// count real tokens, so each score is that of the sequence alone.
    public func pooledScores(_ sequences: [[Int]]) -> Tensor {
        let pad = config.padTokenId
        let batch = LeftPaddedBatch(sequences, padId: pad ?? 0)
        let rows = sequences.enumerated().map { r, sequence in
            let last = pad.map { pad in sequence.lastIndex { $0 != pad } ?? 0 } ?? Swift.max(sequence.count - 1, 0)
            return r * batch.length + batch.length - sequence.count + last
        }
        let hidden = hiddenStates(batch).reshaped([batch.rows * batch.length, config.hiddenSize])
        return score(hidden.indexSelect(rows, indexShape: [rows.count]))
    }
}
