import FledgeNN
import FledgeTensor

/// The output head of a causal LM: `lm_head.weight` `[vocab, hidden]`, or the embedding when
/// config.json ties them. It is the one place where final hidden states become logits — for
/// sampling (`logits`), per-token log-probabilities (`logProbs`, without ever holding the logits)
/// and logit statistics (`statistics`) — used by generation, scoring and training alike. A soft
/// cap (Gemma's `final_logit_softcapping`) makes the logits `cap · tanh(logits / cap)`, before
/// any temperature.
public final class OutputHead: Module, @unchecked Sendable {
    private enum Projection {
        case tied(Embedding)
        case own(Tensor)
    }

    private var projection: Projection
    /// The soft cap of the logits, or nil for none.
    public let softCap: Float?

    /// A head that is `embedding`'s weight, whatever that weight becomes (loaded, made trainable).
    init(tiedTo embedding: Embedding, softCap: Float? = nil) {
        projection = .tied(embedding)
        self.softCap = softCap
    }

    /// A head of its own with a placeholder weight `[vocabularySize, hiddenSize]`, to be loaded.
    init(vocabularySize: Int, hiddenSize: Int, softCap: Float? = nil) {
        projection = .own(Tensor.placeholder([vocabularySize, hiddenSize]))
        self.softCap = softCap
    }

    /// The projection `[vocab, hidden]`: the embedding's weight when tied.
    public var weight: Tensor {
        switch projection {
        case .tied(let embedding): embedding.weight
        case .own(let weight): weight
        }
    }

    /// `weight` for a head of its own; nothing for a tied one, whose weight is the embedding's and
    /// appears once, as `model.embed_tokens.weight`.
    public func members(_ visitor: ModuleVisitor) {
        guard case .own(var weight) = projection else { return }
        visitor.parameter("weight", &weight)
        projection = .own(weight)
    }

    /// The logits `[N, vocab]` of final hidden states `[N, hidden]`, soft-capped when the head has a cap.
    public func logits(_ hidden: Tensor) -> Tensor {
        let logits = hidden.matmul(weight.transposed())
        guard let softCap else { return logits }
        return (logits / softCap).tanh() * softCap
    }

    /// `log p(targets[i])` of each row of `hidden [N, hidden]` (and the entropy of its
    /// distribution when `withEntropy`) after dividing the logits by `temperature`, with autograd,
    /// through the chunked selective log-softmax (which soft-caps each logit block when the head has
    /// a cap): the `[N, vocab]` logits are never held.
    public func logProbs(_ hidden: Tensor, targets: [Int], temperature: Float = 1, withEntropy: Bool = false) -> SelectedLogProbs {
        Tensor.selectiveLogSoftmax(hidden: hidden, weight: weight, targets: targets, temperature: temperature, withEntropy: withEntropy,
                                   softCap: softCap)
    }

    /// Each row's mean over the vocabulary of `−log p` for the logits of `hidden [N, hidden]` divided
    /// by `temperature` — `logsumexp(z) − mean(z)`, the uniform term of a label-smoothed loss — with
    /// autograd. It holds the `[N, vocab]` logits, as transformers' `LabelSmoother` does.
    public func meanNegativeLogProbs(_ hidden: Tensor, temperature: Float = 1) -> Tensor {
        let logits = logits(hidden) / temperature
        return logits.logSumExp(axis: 1) - logits.mean(axis: 1)
    }

    /// The `wanted` statistics of each row's logits `hidden · weightᵀ / temperature`, without
    /// autograd. The mean needs no logits (it is `hidden · mean(weight) / temperature`); log Σ p² =
    /// logsumexp(2z) − 2 logsumexp(z) is computed over blocks of rows of at most `chunkElements` logits.
    public func statistics(_ wanted: LogitStatistics, hidden: Tensor, temperature: Float,
                           chunkElements: Int = 1 << 20) -> ScoredLogitStatistics {
        let weight = weight
        let rows = hidden.shape[0], width = hidden.shape[1], vocabulary = weight.shape[0]
        var result = ScoredLogitStatistics()
        if wanted.contains(.meanLogits) && softCap == nil {
            result.meanLogits = Tensor.withoutGrad { (hidden.matmul(weight.mean(axis: 0).reshaped([width, 1])) / temperature).toArray() }
        }
        let cappedMean = wanted.contains(.meanLogits) && softCap != nil
        if wanted.contains(.logSumSquaredProbs) || cappedMean {
            Tensor.withoutGrad {
                let block = max(1, chunkElements / max(vocabulary, 1))
                for start in stride(from: 0, to: rows, by: block) {
                    let logits = logits(hidden.slice(axis: 0, start..<min(start + block, rows))) / temperature
                    if wanted.contains(.logSumSquaredProbs) {
                        result.logSumSquaredProbs = (result.logSumSquaredProbs ?? [])
                            + ((logits * 2).logSumExp(axis: 1) - logits.logSumExp(axis: 1) * 2).toArray()
                    }
                    if cappedMean { result.meanLogits = (result.meanLogits ?? []) + logits.mean(axis: 1).toArray() }
                }
            }
        }
        return result
    }
}
