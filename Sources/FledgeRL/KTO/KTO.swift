import Foundation
import FledgeLM
import FledgeTensor

/// Kahneman–Tversky Optimization as TRL's `KTOTrainer` trains it: each micro-batch runs its rows'
/// prompt + completion sequences through the model, sums each completion's log-probabilities,
/// compares them with the reference policy's and, for the `kto` loss, with a KL estimate from the
/// same prompts followed by other rows' completions (``KTOLoss``), and logs TRL's metrics plus
/// `entropy`.
///
/// The loss of a micro-batch is a mean over its rows, so the trainer averages accumulated
/// micro-batches (HF's division by `gradient_accumulation_steps`). With `train_sampling_strategy:
/// sequential` (KTO's default, which the KL estimate needs) micro-batch i holds rows
/// i·b ..< (i+1)·b of the file, every epoch; with `random` the rows are shuffled every epoch from
/// `data_seed` (else `seed`).
///
/// Over several processes (`communicator`), process `p` takes micro-batches `p`, `p + N`, `p + 2N` …
/// of the epoch (Accelerate's sharding of TRL's sequential sampler), each micro-batch's loss is a
/// mean over its rows and the gradients are averaged. The KL estimate is TRL's: each process's mean
/// log-ratio of its mismatched completions, averaged over the processes (`gather_for_metrics(kl).mean()`),
/// then clamped at 0. So `N` processes train as one process whose micro-batch holds theirs together
/// (`N` times `per_device_train_batch_size`, the mismatched completions rotated within each process's
/// rows), not as one with `N` times the gradient accumulation, whose micro-batches each estimate
/// their own KL; the `apo_zero_unpaired` loss, which has no KL term, trains as the latter.
public final class KTO: TrainingAlgorithm, ReferenceSyncing {
    /// The rows of one forward/backward pass, by index into the split.
    public struct MicroBatch {
        /// Empty for a process left without a micro-batch at the end of an epoch.
        public let indices: [Int]
        /// Micro-batches of the step over every process (the divisor of a data-parallel run's loss).
        var stepMicroBatches = 1
    }

    public let model: LanguageModel
    public let train: [UnpairedSequence]
    public let evaluation: [UnpairedSequence]?
    public let loss: KTOLoss
    /// The reference log-probabilities computed before training, when `precompute_ref_log_probs`.
    public let precomputedTrain: KTOPrecomputedReference?
    public let precomputedEvaluation: KTOPrecomputedReference?
    /// The reference policy scored with each batch; nil when every reference value was precomputed.
    private let reference: ReferencePolicy?
    /// The reference model's syncing toward the policy (`sync_ref_model`), or nil.
    public let referenceSync: ReferenceSync?
    private let batchSize: Int
    private let evaluationBatchSize: Int
    private let dataSeed: UInt64
    private let sampling: TrainSamplingStrategy
    public let communicator: any Communicator
    private let sharding: MicroBatchSharding

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
        referenceSync = try ReferenceSync(policy: model, reference: config.precomputeRefLogProbs ? nil : reference,
                                          arguments: config.referenceSync)
        batchSize = training.perDeviceTrainBatchSize
        evaluationBatchSize = training.perDeviceEvalBatchSize
        dataSeed = UInt64(bitPattern: Int64(training.dataSeed ?? training.seed))
        sampling = config.training.trainSamplingStrategy
        self.communicator = communicator
        sharding = MicroBatchSharding(communicator)
        if config.precomputeRefLogProbs {
            let directory = training.outputDirectory
            func precompute(_ rows: [UnpairedSequence], split: String, batchSize: Int) throws -> KTOPrecomputedReference {
                try KTOPrecomputedReference(rows: rows, split: split, directory: directory, reference: reference, model: model,
                                            batchSize: config.precomputeRefBatchSize ?? batchSize)
            }
            precomputedTrain = try precompute(train, split: "train", batchSize: training.perDeviceTrainBatchSize)
            precomputedEvaluation = try evaluation.map { try precompute($0, split: "eval", batchSize: training.perDeviceEvalBatchSize) }
            self.reference = nil
        } else {
            (precomputedTrain, precomputedEvaluation, self.reference) = (nil, nil, reference)
        }
    }

    /// This process's micro-batches per epoch.
    public var microBatchesPerEpoch: Int { sharding.localCount(global: (train.count + batchSize - 1) / batchSize) }

    /// One process divides by the step's micro-batches in the trainer; several divide in ``loss(of:)``.
    public var lossScaling: LossScaling { communicator.size == 1 ? .perMicroBatch : .wholeStep }

    /// File order, or a shuffle that is a pure function of the seed and the epoch, so no generator
    /// state needs saving.
    public func microBatches(for position: StepPosition) throws -> [MicroBatch] {
        let global = sharding.globalRange(position.microBatches, global: (train.count + batchSize - 1) / batchSize)
        let batches = EpochOrder.microBatches(global, batchSize: batchSize, count: train.count, seed: dataSeed,
                                              epoch: position.epoch, strategy: sampling, lengths: [], optimizerBatch: batchSize)
        return sharding.offsets(position.microBatches, covered: batches.count).map { offset in
            MicroBatch(indices: offset.map { batches[$0] } ?? [], stepMicroBatches: batches.count)
        }
    }

    public func loss(of batch: MicroBatch) throws -> MicroBatchLoss {
        guard !batch.indices.isEmpty else {
            // The process still joins the KL average of the step's other processes.
            if loss.lossType.estimatesKL { _ = try averageOverProcesses(nil) }
            return MicroBatchLoss(loss: Tensor.scalar(0), tokens: 0)
        }
        let result = try compute(batch.indices.map { train[$0] }, indices: batch.indices, precomputed: precomputedTrain,
                                 averageKL: { try self.averageOverProcesses($0) })
        guard communicator.size > 1 else { return result }
        return MicroBatchLoss(loss: result.loss / (Float(batch.stepMicroBatches) / Float(communicator.size)),
                              metrics: result.metrics, tokens: result.tokens)
    }

    /// The mean over the processes that have a micro-batch of their mean mismatched log-ratio
    /// (`local`, nil for a process without one), as TRL's `gather_for_metrics(kl).mean()`.
    private func averageOverProcesses(_ local: Float?) throws -> Float {
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
        var loss = 0.0
        var totals: [String: (sum: Double, count: Int)] = [:]
        try Tensor.withoutGrad {
            for start in stride(from: 0, to: evaluation.count, by: evaluationBatchSize) {
                let indices = Array(start..<min(start + evaluationBatchSize, evaluation.count))
                let result = try compute(indices.map { evaluation[$0] }, indices: indices, precomputed: precomputedEvaluation)
                loss += Double(result.loss.item()) * Double(indices.count)
                for (name, value) in result.metrics {
                    let current = totals[name] ?? (0, 0)
                    totals[name] = (current.sum + value, current.count + 1)
                }
            }
        }
        return totals.mapValues { $0.sum / Double($0.count) }.merging(["loss": loss / Double(evaluation.count)]) { $1 }
    }

    /// The reference policy's log-probability of each row's completion and, when the rows have them,
    /// of each mismatched completion, in one no-grad pass.
    static func referenceSums(_ rows: [UnpairedSequence], reference: ReferencePolicy) -> (completions: [Float], mismatched: [Float]?) {
        let mismatched = rows.compactMap(\.mismatched)
        let sequences = rows.map(\.sequence) + mismatched
        let logProbs = reference.logProbs(sequences.map(\.ids), scoredFrom: sequences.map(\.scoredFrom), batchSize: sequences.count)
        let sums = rowSums(logProbs, counts: sequences.map(\.scoredCount))
        return (Array(sums[..<rows.count]), mismatched.isEmpty ? nil : Array(sums[rows.count...]))
    }

    /// The sum of each row's values in `flat` (rows of `counts` values, one after another).
    private static func rowSums(_ flat: [Float], counts: [Int]) -> [Float] {
        var sums: [Float] = [], offset = 0
        for count in counts {
            sums.append(flat[offset..<(offset + count)].reduce(0, +))
            offset += count
        }
        return sums
    }

    /// The loss and metrics of `rows` (entries `indices` of a split whose precomputed reference values,
    /// if any, are `precomputed`).
    private func compute(_ rows: [UnpairedSequence], indices: [Int], precomputed: KTOPrecomputedReference?,
                         averageKL: (Float) throws -> Float = { $0 }) throws -> MicroBatchLoss {
        let sequences = rows.map(\.sequence)
        let ids = sequences.map(\.ids)
        let scored = model.sequenceLogProbs(ids, scoredFrom: sequences.map(\.scoredFrom), withEntropy: true, statistics: .meanLogits)
        let mismatchedRows = rows.compactMap(\.mismatched)
        let mismatched = mismatchedRows.isEmpty ? nil : Self.rowSums(
            model.logProbsWithoutGrad(mismatchedRows.map(\.ids), scoredFrom: mismatchedRows.map(\.scoredFrom), batchSize: rows.count),
            counts: mismatchedRows.map(\.scoredCount))
        let referenceCompletions: [Float], referenceMismatched: [Float]?
        if let precomputed {
            referenceCompletions = indices.map { precomputed.completions[$0] }
            referenceMismatched = precomputed.mismatched.map { values in indices.map { values[$0] } }
        } else {
            guard let reference else { preconditionFailure("KTO without precomputed reference values keeps its reference policy") }
            (referenceCompletions, referenceMismatched) = Self.referenceSums(rows, reference: reference)
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
