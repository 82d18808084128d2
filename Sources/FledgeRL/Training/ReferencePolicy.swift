import FledgeLM
import FledgeTensor

/// The policy that KL terms and DPO's log-ratios are measured against: the trained model with its
/// LoRA adapters switched off (no second copy of the weights), or, for full fine-tuning, a frozen
/// copy of the model as it was loaded.
public enum ReferencePolicy {
    case adaptersDisabled(LanguageModel)
    case frozen(LanguageModel)

    /// The reference of `model`: the model with its adapters switched off, or else a frozen copy
    /// loaded again from its directory (float32 weights are memory-mapped, not copied).
    public static func of(_ model: LanguageModel) throws -> ReferencePolicy {
        if model.hasAdapters { return .adaptersDisabled(model) }
        do {
            return .frozen(try LanguageModel(directory: model.directory))
        } catch {
            throw TrainingError.invalidSetting("the reference model (a frozen copy of \(model.directory.path) for full "
                + "fine-tuning) cannot be loaded: \(error)")
        }
    }

    /// Per-token log-probabilities of `sequences[i][scoredFrom[i]...]` (after dividing the logits by
    /// `temperature`), without gradients, `batchSize` sequences per forward pass; flat, in order.
    public func logProbs(_ sequences: [[Int]], scoredFrom: [Int], temperature: Float = 1, batchSize: Int) -> [Float] {
        precondition(batchSize > 0, "reference log-probs need a positive batch size")
        func score(_ model: LanguageModel) -> [Float] {
            Tensor.withoutGrad {
                stride(from: 0, to: sequences.count, by: batchSize).flatMap { start in
                    let range = start..<Swift.min(start + batchSize, sequences.count)
                    return model.sequenceLogProbs(Array(sequences[range]), scoredFrom: Array(scoredFrom[range]),
                                                  temperature: temperature).logProbs.toArray()
                }
            }
        }
        switch self {
        case .adaptersDisabled(let model): return model.withAdaptersDisabled { score(model) }
        case .frozen(let model): return score(model)
        }
    }
}
