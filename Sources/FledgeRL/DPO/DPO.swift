import Foundation
import FledgeLM
import FledgeTensor

/// Direct Preference Optimization as TRL's `DPOTrainer` trains it: each micro-batch of pairs runs the
/// chosen and then the rejected sequences through the model, sums each completion's log-probabilities,
/// compares them with the reference policy's (``DPOLoss``: every loss type, loss lists, f-divergences,
/// LD-DPO, WPO weighting) and logs TRL's metrics plus `entropy`.
///
/// The loss of a micro-batch is a mean over its pairs, so the trainer averages accumulated
/// micro-batches (HF's division by `gradient_accumulation_steps`). Pairs are shuffled every epoch
/// from `data_seed` (else `seed`).
public final class DPO: TrainingAlgorithm, ReferenceSyncing {
    /// The pairs of one forward/backward pass, by index into the split.
    public struct MicroBatch {
        public let indices: [Int]
    }

    public let model: LanguageModel
    public let train: [PreferencePair]
    public let evaluation: [PreferencePair]?
    public let loss: DPOLoss
    /// The reference log-probabilities computed before training, when `precompute_ref_log_probs`.
    public let precomputedTrain: PrecomputedReference?
    public let precomputedEvaluation: PrecomputedReference?
    /// The reference policy scored with each batch; nil when every reference value was precomputed.
    private let reference: ReferencePolicy?
    /// The reference model's syncing toward the policy (`sync_ref_model`), or nil.
    public let referenceSync: ReferenceSync?
    private let batchSize: Int
    private let evaluationBatchSize: Int
    private let dataSeed: UInt64
    /// Random or file order (`train_sampling_strategy`).
    private let sampling: TrainSamplingStrategy

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
        referenceSync = try ReferenceSync(policy: model, reference: config.precomputeRefLogProbs ? nil : reference,
                                          arguments: config.referenceSync)
        batchSize = training.perDeviceTrainBatchSize
        evaluationBatchSize = training.perDeviceEvalBatchSize
        dataSeed = UInt64(bitPattern: Int64(training.dataSeed ?? training.seed))
        sampling = training.trainSamplingStrategy
        if config.precomputeRefLogProbs {
            let directory = training.outputDirectory
            func precompute(_ pairs: [PreferencePair], split: String, batchSize: Int) throws -> PrecomputedReference {
                try PrecomputedReference(pairs: pairs, split: split, directory: directory, reference: reference, model: model,
                                         ldAlpha: config.ldAlpha, batchSize: config.precomputeRefBatchSize ?? batchSize)
            }
            precomputedTrain = try precompute(train, split: "train", batchSize: training.perDeviceTrainBatchSize)
            precomputedEvaluation = try evaluation.map {
                try precompute($0, split: "eval", batchSize: training.perDeviceEvalBatchSize)
            }
            self.reference = nil
        } else {
            (precomputedTrain, precomputedEvaluation, self.reference) = (nil, nil, reference)
        }
    }

    public var microBatchesPerEpoch: Int { (train.count + batchSize - 1) / batchSize }

    public var lossScaling: LossScaling { .perMicroBatch }

    /// The order is a pure function of the seed and the epoch, so no generator state needs saving.
    public func microBatches(for position: StepPosition) throws -> [MicroBatch] {
        EpochOrder.microBatches(position.microBatches, batchSize: batchSize, count: train.count, seed: dataSeed,
                                epoch: position.epoch, strategy: sampling, lengths: [], optimizerBatch: batchSize)
            .map(MicroBatch.init)
    }

    public func loss(of batch: MicroBatch) throws -> MicroBatchLoss {
        try compute(batch.indices.map { train[$0] }, indices: batch.indices, precomputed: precomputedTrain)
    }

    /// `eval_loss` and TRL's metrics over the evaluation split, without gradients, each the mean over
    /// the pairs.
    public func evaluate() throws -> [String: Double]? {
        guard let evaluation else { return nil }
        var totals: [String: Double] = [:]
        try Tensor.withoutGrad {
            for start in stride(from: 0, to: evaluation.count, by: evaluationBatchSize) {
                let indices = Array(start..<min(start + evaluationBatchSize, evaluation.count))
                let result = try compute(indices.map { evaluation[$0] }, indices: indices, precomputed: precomputedEvaluation)
                let weight = Double(indices.count)
                totals["loss", default: 0] += Double(result.loss.item()) * weight
                for (name, value) in result.metrics { totals[name, default: 0] += value * weight }
            }
        }
        return totals.mapValues { $0 / Double(evaluation.count) }
    }

    /// The loss and metrics of `pairs` (entries `indices` of a split whose precomputed reference values,
    /// if any, are `precomputed`).
    private func compute(_ pairs: [PreferencePair], indices: [Int], precomputed: PrecomputedReference?) throws -> MicroBatchLoss {
        let sequences = pairs.map(\.chosen) + pairs.map(\.rejected)
        let ids = sequences.map(\.ids), starts = sequences.map(\.scoredFrom)
        var statistics: LogitStatistics = .meanLogits
        if loss.settings.useWeighting { statistics.insert(.logSumSquaredProbs) }
        let scored = model.sequenceLogProbs(ids, scoredFrom: starts, withEntropy: true, statistics: statistics)
        let referenceChosen: [Float], referenceRejected: [Float]
        if let precomputed {
            referenceChosen = indices.map { precomputed.chosen[$0] }
            referenceRejected = indices.map { precomputed.rejected[$0] }
        } else {
            guard let reference else { preconditionFailure("DPO without precomputed reference values keeps its reference policy") }
            let logProbs = reference.logProbs(ids, scoredFrom: starts, batchSize: ids.count)
            (referenceChosen, referenceRejected) = DPOSequenceLogProbs.referenceSums(logProbs, counts: scored.counts,
                                                                                     ldAlpha: loss.settings.ldAlpha)
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
