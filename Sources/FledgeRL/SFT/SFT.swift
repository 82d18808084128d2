import FledgeLM
import FledgeTensor

/// Supervised fine-tuning as TRL's `SFTTrainer` computes it: the loss of an optimizer step is the
/// negative log-likelihood summed over the trained tokens of all its micro-batches, divided by the
/// number of those tokens (HF's `num_items_in_batch`), so accumulating micro-batches gives the same
/// gradient as one large batch.
///
/// Over several processes (`communicator`), process `p` takes micro-batches `p`, `p + N`, `p + 2N` …
/// of the epoch (Accelerate's sharding of a data loader); the token count covers the step's
/// micro-batches on every process and the loss is multiplied by the number of processes (HF's
/// `average_tokens_across_devices`), so `N` processes train as one with `N` times the gradient
/// accumulation. A process left without a micro-batch at the end of an epoch adds no gradient.
public final class SFT: TrainingAlgorithm {
    /// The rows of one forward/backward pass, and the trained-token count of the whole step.
    public struct MicroBatch {
        public let sequences: [SFTSequence]
        public let stepTargetCount: Int
    }

    public let model: LanguageModel
    public let train: [SFTSequence]
    public let evaluation: [SFTSequence]?
    public let batchSize: Int
    public let evaluationBatchSize: Int
    /// Seeds the per-epoch shuffle (`data_seed`, else `seed`).
    public let dataSeed: UInt64
    public let communicator: any Communicator

    /// SFT of `model` on `train` (and `evaluation`, when given) with `config`'s batch sizes
    /// (`per_device_train_batch_size` rows per micro-batch on each of the `communicator`'s processes,
    /// `per_device_eval_batch_size`) and shuffle seed; throws when an id is outside the model's vocabulary.
    public init(model: LanguageModel, train: [SFTSequence], evaluation: [SFTSequence]? = nil, config: SFTConfig,
                communicator: any Communicator = SingleProcess()) throws {
        try config.checkRanges()
        let training = config.training
        let vocabulary = model.config.vocabSize
        for sequence in train + (evaluation ?? []) {
            if let id = sequence.ids.first(where: { $0 < 0 || $0 >= vocabulary }) {
                throw TrainingError.invalidSetting("token id \(id) is outside the model's vocabulary of \(vocabulary); "
                    + "the tokenizer does not belong to this model")
            }
        }
        self.model = model
        self.train = train
        self.evaluation = evaluation
        batchSize = training.perDeviceTrainBatchSize
        evaluationBatchSize = training.perDeviceEvalBatchSize
        dataSeed = UInt64(bitPattern: Int64(training.dataSeed ?? training.seed))
        self.communicator = communicator
    }

    /// This process's micro-batches per epoch.
    public var microBatchesPerEpoch: Int { (globalMicroBatchesPerEpoch + communicator.size - 1) / communicator.size }

    /// Micro-batches per epoch over all processes.
    private var globalMicroBatchesPerEpoch: Int { (train.count + batchSize - 1) / batchSize }

    public var lossScaling: LossScaling { .wholeStep }

    /// The order is a pure function of the seed and the epoch, so no generator state needs saving.
    public func microBatches(for position: StepPosition) throws -> [MicroBatch] {
        // The step's micro-batches on every process: local index i of process p is global i·N + p.
        let processes = communicator.size, first = position.microBatches.lowerBound
        let global = first * processes..<min(position.microBatches.upperBound * processes, globalMicroBatchesPerEpoch)
        let rows = EpochOrder.microBatches(global, batchSize: batchSize, count: train.count, seed: dataSeed,
                                           epoch: position.epoch).map { $0.map { train[$0] } }
        let targets = rows.joined().reduce(0) { $0 + $1.targetCount }
        return position.microBatches.map { index in
            let offset = (index - first) * processes + communicator.rank
            return MicroBatch(sequences: offset < rows.count ? rows[offset] : [], stepTargetCount: targets)
        }
    }

    public func loss(of batch: MicroBatch) throws -> MicroBatchLoss {
        guard !batch.sequences.isEmpty else { return MicroBatchLoss(loss: Tensor.scalar(0), tokens: 0) }
        let scored = Self.score(batch.sequences, model: model)
        let loss = -scored.targetLogProbSum / (Float(max(batch.stepTargetCount, 1)) / Float(communicator.size))
        return MicroBatchLoss(loss: loss, metrics: ["entropy": scored.meanEntropy],
                              tokens: batch.sequences.reduce(0) { $0 + $1.ids.count })
    }

    /// `eval_loss` (each batch's token-mean loss, averaged over rows as the HF Trainer averages it)
    /// and `eval_entropy`, without gradients.
    public func evaluate() throws -> [String: Double]? {
        guard let evaluation else { return nil }
        var loss = 0.0, entropy = 0.0
        Tensor.withoutGrad {
            for start in stride(from: 0, to: evaluation.count, by: evaluationBatchSize) {
                let rows = Array(evaluation[start..<min(start + evaluationBatchSize, evaluation.count)])
                let scored = Self.score(rows, model: model)
                let targets = rows.reduce(0) { $0 + $1.targetCount }
                loss += Double(-scored.targetLogProbSum.item()) / Double(max(targets, 1)) * Double(rows.count)
                entropy += scored.meanEntropy * Double(rows.count)
            }
        }
        return ["loss": loss / Double(evaluation.count), "entropy": entropy / Double(evaluation.count)]
    }

    /// The summed log-probability of the trained tokens of `rows` (with autograd) and the mean
    /// entropy of their predicted distributions.
    static func score(_ rows: [SFTSequence], model: LanguageModel) -> (targetLogProbSum: Tensor, meanEntropy: Double) {
        // Score each row from its first target (at least 1), then mask the untrained tokens after it.
        let starts = rows.map { row in (row.trained.dropFirst().firstIndex(of: true) ?? row.ids.count) }
        let scored = model.sequenceLogProbs(rows.map(\.ids), scoredFrom: starts, withEntropy: true)
        var mask: [Float] = []
        for (row, start) in zip(rows, starts) { mask += row.trained[start...].map { $0 ? 1 : 0 } }
        let weights = Tensor(shape: [mask.count], values: mask)
        let targets = mask.reduce(0, +)
        let entropy = scored.entropy.map { Double(($0.detached() * weights).sum().item()) } ?? 0
        return ((scored.logProbs * weights).sum(), targets > 0 ? entropy / Double(targets) : 0)
    }
}
