import FledgeLM

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

    /// The reference an algorithm measures `model` against: `reference` when one is given, else the
    /// model with its LoRA adapters switched off. Full fine-tuning has no adapters to switch off, so
    /// there a missing `reference` is an error (`missing` says what needs one and how to give it),
    /// unless the run does not use a reference at all (`needed` false).
    static func resolve(_ reference: ReferencePolicy?, model: LanguageModel, needed: Bool = true,
                        missing: @autoclosure () -> String) throws(TrainingError) -> ReferencePolicy {
        if let reference { return reference }
        if needed && !model.hasAdapters { throw .invalidSetting(missing()) }
        return .adaptersDisabled(model)
    }

    /// The log-probabilities of `sequences[i][scoredFrom[i]...]` under the reference, without gradients
    /// (``LanguageModel/scoreWithoutGrad(_:scoredFrom:temperature:batchSize:sharingPrefixes:)`` of the model
    /// with its adapters off, or of the frozen copy; with `sharingPrefixes`, equal unscored prefixes run once).
    public func score(_ sequences: [[Int]], scoredFrom: [Int], temperature: Float = 1, batchSize: Int,
                      sharingPrefixes: Bool = false) -> ScoredTokens {
        switch self {
        case .adaptersDisabled(let model):
            return model.withAdaptersDisabled {
                model.scoreWithoutGrad(sequences, scoredFrom: scoredFrom, temperature: temperature, batchSize: batchSize,
                                       sharingPrefixes: sharingPrefixes)
            }
        case .frozen(let model):
            return model.scoreWithoutGrad(sequences, scoredFrom: scoredFrom, temperature: temperature, batchSize: batchSize,
                                          sharingPrefixes: sharingPrefixes)
        }
    }

    /// The flat values of ``score(_:scoredFrom:temperature:batchSize:sharingPrefixes:)``.
    public func logProbs(_ sequences: [[Int]], scoredFrom: [Int], temperature: Float = 1, batchSize: Int) -> [Float] {
        score(sequences, scoredFrom: scoredFrom, temperature: temperature, batchSize: batchSize).values
    }
}
