import Foundation
import FledgeLM
import FledgeTensor

/// Kahneman–Tversky Optimization as TRL's `KTOTrainer` trains it: each micro-batch runs its rows'
/// prompt + completion sequences through the model, sums each completion's log-probabilities,
/// compares them with the reference policy's and, for the `kto` loss, with a KL estimate from the
/// same prompts followed by other rows' completions (``KTOLoss``), and logs TRL's metrics plus
/// `entropy`.
///
/// Rows are batched as ``RowBatching`` says: with `train_sampling_strategy: sequential` (KTO's default,
/// which the KL estimate needs) micro-batch i holds rows i·b ..< (i+1)·b of the file, every epoch.
///
/// Over several processes the KL estimate is TRL's: each process's mean log-ratio of its mismatched
/// completions, averaged over the processes (`gather_for_metrics(kl).mean()`), then clamped at 0. So `N`
/// processes train as one process whose micro-batch holds theirs together (`N` times
/// `per_device_train_batch_size`, the mismatched completions rotated within each process's rows), not as
/// one with `N` times the gradient accumulation, whose micro-batches each estimate their own KL; the
/// `apo_zero_unpaired` loss, which has no KL term, trains as the latter.
public final class KTO: RowBatchedTraining, ReferenceSyncing {
    public typealias MicroBatch = RowMicroBatch

    public let model: LanguageModel
    public let train: [UnpairedSequence]
    public let evaluation: [UnpairedSequence]?
    public let loss: KTOLoss
    /// The reference log-probabilities computed before training, or the policy scored with each batch.
    private let reference: PreferenceReference<KTOPrecomputedReference>
    /// The reference model's syncing toward the policy (`sync_ref_model`), or nil.
    public let referenceSync: ReferenceSync?
    public let rowBatching: RowBatching
    /// NEFTune's α (`neftune_noise_alpha`), or nil for no noise.
    public let neftuneNoiseAlpha: Double?

    /// KTO of `model` on `train` (and `evaluation`) with `config`'s loss, batch and seed settings,
    /// against `reference`, by default the model with its adapters switched off; full fine-tuning
    /// needs one (``ReferencePolicy/of(_:)``). With `precompute_ref_log_probs`, the reference
    /// log-probabilities are read from (or computed into) `output_dir` here, and `reference` is not kept.
    /// The rows need mismatched sequences exactly when the loss estimates the KL term. Each of the
    /// `communicator`'s processes takes `per_device_train_batch_size` rows per micro-batch.
    public init(model: LanguageModel, train: [UnpairedSequence], evaluation: [UnpairedSequence]? = nil, config: KTOConfig,
                reference: ReferencePolicy? = nil, communicator: any Communicator = SingleProcess()) throws {
        try config.checkRanges()
        if communicator.size > 1 && config.precomputeRefLogProbs {
            throw TrainingError.invalidSetting("precompute_ref_log_probs in a run of \(communicator.size) processes: each would "
                + "compute and write the same cache in output_dir; compute it in one process first (the cache is then read), "
                + "or set precompute_ref_log_probs: false")
        }
        let reference = try ReferencePolicy.resolve(
            reference, model: model,
            missing: "KTO compares log-probabilities with a reference policy, and a fully fine-tuned model has no adapters "
                + "to switch off: pass one (ReferencePolicy.of(model), a frozen copy), or use LoRA (use_peft: true)")
        let training = config.training
        let vocabulary = model.config.vocabSize
        let rows = train + (evaluation ?? [])
        guard !train.isEmpty else { throw TrainingError.invalidSetting("KTO has no training rows") }
        for row in rows {
            if let id = (row.sequence.ids + (row.mismatched?.ids ?? [])).first(where: { $0 < 0 || $0 >= vocabulary }) {
                throw TrainingError.invalidSetting("token id \(id) is outside the model's vocabulary of \(vocabulary); "
                    + "the tokenizer does not belong to this model")
            }
            if (row.mismatched != nil) != config.lossType.estimatesKL {
                throw TrainingError.invalidSetting("the \(config.lossType.rawValue) loss needs rows "
                    + (config.lossType.estimatesKL ? "with" : "without") + " mismatched completions; build the dataset with "
                    + (config.lossType.estimatesKL ? "mismatchedBatchSize: per_device_train_batch_size" : "mismatchedBatchSize: nil"))
            }
        }
        self.model = model
        self.train = train
        self.evaluation = evaluation
        loss = KTOLoss(config: config)
        rowBatching = RowBatching(rows: train.count, training: training, communicator: communicator)
        neftuneNoiseAlpha = config.neftuneNoiseAlpha
        referenceSync = try ReferenceSync(policy: model, reference: config.precomputeRefLogProbs ? nil : reference,
                                          arguments: config.referenceSync)
        self.reference = try PreferenceReference(
            precomputing: config.precomputeRefLogProbs, reference: reference, train: train, evaluation: evaluation,
            training: training, precomputeBatchSize: config.precomputeRefBatchSize) { rows, split, batchSize in
                try KTOPrecomputedReference(rows: rows, split: split, directory: training.outputDirectory, reference: reference,
                                            model: model, batchSize: batchSize)
            }
    }

    /// The reference log-probabilities computed before training, when `precompute_ref_log_probs`.
    public var precomputedTrain: KTOPrecomputedReference? { reference.precomputed(.train) }
    public var precomputedEvaluation: KTOPrecomputedReference? { reference.precomputed(.evaluation) }

    /// The loss of a training micro-batch, with NEFTune noise from the batch's seed when
    /// `neftune_noise_alpha` is set: on the policy's passes and on the reference's when it is this model
    /// with adapters off (TRL's hook noises every forward of the trained model in training mode, with or
    /// without gradients); a separate frozen reference has no noise on its embeddings.
    public func loss(of batch: RowMicroBatch) throws -> MicroBatchLoss {
        if batch.indices.isEmpty, loss.lossType.estimatesKL {
            // The process still joins the KL average of the step's other processes.
            _ = try averageOverProcesses(nil)
        }
        return try model.withNEFTuneNoise(neftuneNoiseAlpha.map {
            NEFTuneNoise(alpha: Float($0), seed: batch.noiseSeed, noisesPassesWithoutGrad: true)
        }) {
            try rowBatching.loss(of: batch) { try loss(ofTrainingRows: $0) }
        }
    }

    public func loss(ofTrainingRows indices: [Int]) throws -> MicroBatchLoss {
        try compute(indices.map { train[$0] }, indices: indices, split: .train, averageKL: { try self.averageOverProcesses($0) })
    }

    /// The mean over the processes that have a micro-batch of their mean mismatched log-ratio
    /// (`local`, nil for a process without one), as TRL's `gather_for_metrics(kl).mean()`.
    private func averageOverProcesses(_ local: Float?) throws -> Float {
        let communicator = rowBatching.communicator
        guard communicator.size > 1 else { return local! }
        let sums = try communicator.allReduceSum([Double(local ?? 0), local == nil ? 0 : 1], purpose: "the KL estimate of a KTO step")
        return Float(sums[0] / Swift.max(sums[1], 1))
    }

    /// `eval_loss` and TRL's metrics over the evaluation split in batches of
    /// `per_device_eval_batch_size`, without gradients: the loss the mean over the rows (the HF
    /// evaluation loop's), each metric the mean over the batches that log it (as TRL averages its
    /// per-batch metric lists).
    public func evaluate() throws -> [String: Double]? {
        guard let evaluation else { return nil }
        return try rowBatching.evaluate(count: evaluation.count, metrics: .overBatches) { indices in
            try compute(indices.map { evaluation[$0] }, indices: indices, split: .evaluation)
        }
    }

    /// The reference policy's log-probability of each row's completion and, when the rows have them,
    /// of each mismatched completion, in one no-grad pass. With `sharingPrompts`, a row and its
    /// mismatched sequence, which begin with the same prompt, run that prompt once: both completions
    /// attend to one copy of its keys and values (``ReferencePolicy/score(_:scoredFrom:temperature:batchSize:sharingPrefixes:)``),
    /// with the same log-probabilities within float rounding; sequences whose prompts differ run whole.
    static func referenceSums(_ rows: [UnpairedSequence], reference: ReferencePolicy,
                              sharingPrompts: Bool = true) -> (completions: [Float], mismatched: [Float]?) {
        let mismatched = rows.compactMap(\.mismatched)
        let sequences = rows.map(\.sequence) + mismatched
        let sums = reference.score(sequences.map(\.ids), scoredFrom: sequences.map(\.scoredFrom), batchSize: sequences.count,
                                   sharingPrefixes: sharingPrompts).sums
        return (Array(sums[..<rows.count]), mismatched.isEmpty ? nil : Array(sums[rows.count...]))
    }

    /// The loss and metrics of `rows`, entries `indices` of `split`, the KL estimate averaged by `averageKL`.
    private func compute(_ rows: [UnpairedSequence], indices: [Int], split: PreferenceReference<KTOPrecomputedReference>.Split,
                         averageKL: (Float) throws -> Float = { $0 }) throws -> MicroBatchLoss {
        let sequences = rows.map(\.sequence)
        let ids = sequences.map(\.ids)
        let scored = model.sequenceLogProbs(ids, scoredFrom: sequences.map(\.scoredFrom), withEntropy: true, statistics: .meanLogits)
        let mismatchedRows = rows.compactMap(\.mismatched)
        let mismatched = mismatchedRows.isEmpty ? nil
            : model.scoreWithoutGrad(mismatchedRows.map(\.ids), scoredFrom: mismatchedRows.map(\.scoredFrom), batchSize: rows.count).sums
        let (referenceCompletions, referenceMismatched) = reference.values(indices, of: split) { precomputed, indices in
            (indices.map { precomputed.completions[$0] }, precomputed.mismatched.map { values in indices.map { values[$0] } })
        } score: { reference in
            // NEFTune's noise scale depends on the pass's padded length, which a shared-prompt pass does not have.
            Self.referenceSums(rows, reference: reference, sharingPrompts: !(model.neftuneNoise?.isActive ?? false))
        }
        let result = try loss.compute(KTOBatch(logProbs: scored.logProbs, counts: scored.counts, labels: rows.map(\.label),
                                           reference: referenceCompletions, mismatched: mismatched,
                                           referenceMismatched: referenceMismatched, meanLogits: scored.statistics.meanLogits),
                                      averageKL: averageKL)
        var metrics = result.metrics
        let tokens = scored.counts.reduce(0, +)
        metrics["entropy"] = tokens > 0 ? Double(scored.entropy!.detached().sum().item()) / Double(tokens) : 0
        return MicroBatchLoss(loss: result.loss, metrics: metrics, tokens: ids.reduce(0) { $0 + $1.count })
    }
}
