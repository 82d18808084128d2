import Foundation
import FledgeLM
import FledgeTensor

/// Direct Preference Optimization as TRL's `DPOTrainer` trains it: each micro-batch of pairs runs the
/// chosen and then the rejected sequences through the model, sums each completion's log-probabilities,
/// compares them with the reference policy's (``DPOLoss``: every loss type, loss lists, f-divergences,
/// LD-DPO, WPO weighting) and logs TRL's metrics plus `entropy`.
///
/// Pairs are batched as ``RowBatching`` says.
public final class DPO: RowBatchedTraining, ReferenceSyncing {
    public typealias MicroBatch = RowMicroBatch

    public let model: LanguageModel
    public let train: [PreferencePair]
    public let evaluation: [PreferencePair]?
    public let loss: DPOLoss
    /// The reference log-probabilities computed before training, or the policy scored with each batch.
    private let reference: PreferenceReference<PrecomputedReference>
    /// The reference model's syncing toward the policy (`sync_ref_model`), or nil.
    public let referenceSync: ReferenceSync?
    public let rowBatching: RowBatching
    /// NEFTune's α (`neftune_noise_alpha`), or nil for no noise.
    public let neftuneNoiseAlpha: Double?

    /// DPO of `model` on `train` (and `evaluation`) with `config`'s loss, batch and seed settings, against
    /// `reference`, by default the model with its adapters switched off; full fine-tuning needs one
    /// (``ReferencePolicy/of(_:)``). With `precompute_ref_log_probs`, the reference
    /// log-probabilities are read from (or computed into) `output_dir` here, and `reference` is not kept.
    public init(model: LanguageModel, train: [PreferencePair], evaluation: [PreferencePair]? = nil, config: DPOConfig,
                reference: ReferencePolicy? = nil) throws {
        try config.checkRanges()
        let reference = try ReferencePolicy.resolve(
            reference, model: model,
            missing: "DPO compares log-probabilities with a reference policy, and a fully fine-tuned model has no adapters "
                + "to switch off: pass one (ReferencePolicy.of(model), a frozen copy), or use LoRA (use_peft: true)")
        let training = config.training
        let vocabulary = model.config.vocabSize
        for pair in train + (evaluation ?? []) {
            if let id = (pair.chosen.ids + pair.rejected.ids).first(where: { $0 < 0 || $0 >= vocabulary }) {
                throw TrainingError.invalidSetting("token id \(id) is outside the model's vocabulary of \(vocabulary); "
                    + "the tokenizer does not belong to this model")
            }
        }
        self.model = model
        self.train = train
        self.evaluation = evaluation
        loss = DPOLoss(config: config)
        rowBatching = RowBatching(rows: train.count, training: training)
        neftuneNoiseAlpha = config.neftuneNoiseAlpha
        referenceSync = try ReferenceSync(policy: model, reference: config.precomputeRefLogProbs ? nil : reference,
                                          arguments: config.referenceSync)
        self.reference = try PreferenceReference(
            precomputing: config.precomputeRefLogProbs, reference: reference, train: train, evaluation: evaluation,
            training: training, precomputeBatchSize: config.precomputeRefBatchSize) { pairs, split, batchSize in
                try PrecomputedReference(pairs: pairs, split: split, directory: training.outputDirectory, reference: reference,
                                         model: model, ldAlpha: config.ldAlpha, batchSize: batchSize)
            }
    }

    /// The reference log-probabilities computed before training, when `precompute_ref_log_probs`.
    public var precomputedTrain: PrecomputedReference? { reference.precomputed(.train) }
    public var precomputedEvaluation: PrecomputedReference? { reference.precomputed(.evaluation) }

    /// The loss of a training micro-batch, with NEFTune noise from the batch's seed when
    /// `neftune_noise_alpha` is set: on the policy's passes and on the reference's when it is this model
    /// with adapters off (TRL's hook noises every forward of the trained model in training mode, with or
    /// without gradients); a separate frozen reference has no noise on its embeddings.
    public func loss(of batch: RowMicroBatch) throws -> MicroBatchLoss {
        try model.withNEFTuneNoise(neftuneNoiseAlpha.map {
            NEFTuneNoise(alpha: Float($0), seed: batch.noiseSeed, noisesPassesWithoutGrad: true)
        }) {
            try rowBatching.loss(of: batch) { try loss(ofTrainingRows: $0) }
        }
    }

    public func loss(ofTrainingRows indices: [Int]) throws -> MicroBatchLoss {
        try compute(indices.map { train[$0] }, indices: indices, split: .train)
    }

    /// `eval_loss` and TRL's metrics over the evaluation split, without gradients, each the mean over
    /// the pairs.
    public func evaluate() throws -> [String: Double]? {
        guard let evaluation else { return nil }
        return try rowBatching.evaluate(count: evaluation.count, metrics: .overRows) { indices in
            try compute(indices.map { evaluation[$0] }, indices: indices, split: .evaluation)
        }
    }

    /// The loss and metrics of `pairs`, entries `indices` of `split`.
    private func compute(_ pairs: [PreferencePair], indices: [Int], split: PreferenceReference<PrecomputedReference>.Split) throws -> MicroBatchLoss {
        let sequences = pairs.map(\.chosen) + pairs.map(\.rejected)
        let ids = sequences.map(\.ids), starts = sequences.map(\.scoredFrom)
        var statistics: LogitStatistics = .meanLogits
        if loss.settings.useWeighting { statistics.insert(.logSumSquaredProbs) }
        let scored = model.sequenceLogProbs(ids, scoredFrom: starts, withEntropy: true, statistics: statistics)
        let (referenceChosen, referenceRejected) = reference.values(indices, of: split) { precomputed, indices in
            (indices.map { precomputed.chosen[$0] }, indices.map { precomputed.rejected[$0] })
        } score: { reference in
            DPOSequenceLogProbs.referenceSums(reference.logProbs(ids, scoredFrom: starts, batchSize: ids.count),
                                              counts: scored.counts, ldAlpha: loss.settings.ldAlpha)
        }
        let result = loss.compute(DPOBatch(logProbs: scored.logProbs, counts: scored.counts, referenceChosen: referenceChosen,
                                           referenceRejected: referenceRejected, meanLogits: scored.statistics.meanLogits,
                                           logSumSquaredProbs: scored.statistics.logSumSquaredProbs))
        var metrics = result.metrics
        let tokens = scored.counts.reduce(0, +)
        metrics["entropy"] = tokens > 0 ? Double(scored.entropy!.detached().sum().item()) / Double(tokens) : 0
        return MicroBatchLoss(loss: result.loss, metrics: metrics, tokens: ids.reduce(0) { $0 + $1.count })
    }
}
