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
///
/// Rows may be packed (``SFTPacking``): each document of a row attends only to itself and is scored
/// as on its own, its first token no target, so a packed step trains exactly as its documents
/// would unpacked. With `paddingFree` (TRL's for `bfd` packing) a micro-batch's documents run end to
/// end without padding.
public final class SFT: TrainingAlgorithm {
    /// The rows of one forward/backward pass, the trained-token count of the whole step, and the
    /// seed of the pass's NEFTune noise.
    public struct MicroBatch {
        public let sequences: [SFTSequence]
        public let stepTargetCount: Int
        public var noiseSeed: UInt64 = 0
    }

    public let model: LanguageModel
    public let train: [SFTSequence]
    public let evaluation: [SFTSequence]?
    public let batchSize: Int
    public let evaluationBatchSize: Int
    /// Seeds the per-epoch shuffle (`data_seed`, else `seed`).
    public let dataSeed: UInt64
    public let communicator: any Communicator
    private let sharding: MicroBatchSharding
    /// The order rows are visited in (`train_sampling_strategy`).
    public let sampling: TrainSamplingStrategy
    /// Rows of one optimizer step over every process: `group_by_length`'s batch.
    private let optimizerBatch: Int
    /// Run each micro-batch's documents end to end without padding (TRL's `padding_free`).
    public let paddingFree: Bool
    /// The per-token loss.
    public let lossType: SFTLossType
    /// Label smoothing ε of the `nll` loss (transformers' `LabelSmoother`); 0 for none.
    public let labelSmoothingFactor: Double
    /// NEFTune's α, or nil for no embedding noise.
    public let neftuneNoiseAlpha: Double?

    /// SFT of `model` on `train` (and `evaluation`, when given) with `config`'s batch sizes
    /// (`per_device_train_batch_size` rows per micro-batch on each of the `communicator`'s processes,
    /// `per_device_eval_batch_size`), shuffle seed, padding-free layout and loss fields (`loss_type`,
    /// `label_smoothing_factor` — used with `nll` only, as TRL uses it — and `neftune_noise_alpha`, whose
    /// noise in each training pass is drawn from a seed made of the data seed, the epoch and the
    /// micro-batch, so a resumed run draws the same noise); throws when an id is outside the model's vocabulary.
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
        sharding = MicroBatchSharding(communicator)
        sampling = training.trainSamplingStrategy
        optimizerBatch = training.perDeviceTrainBatchSize * training.gradientAccumulationSteps * communicator.size
        paddingFree = config.isPaddingFree
        lossType = config.lossType
        labelSmoothingFactor = config.lossType == .nll ? config.labelSmoothingFactor : 0
        neftuneNoiseAlpha = config.neftuneNoiseAlpha
    }

    /// This process's micro-batches per epoch.
    public var microBatchesPerEpoch: Int { sharding.localCount(global: globalMicroBatchesPerEpoch) }

    /// Micro-batches per epoch over all processes.
    private var globalMicroBatchesPerEpoch: Int { (train.count + batchSize - 1) / batchSize }

    public var lossScaling: LossScaling { .wholeStep }

    /// The order is a pure function of the seed and the epoch, so no generator state needs saving.
    public func microBatches(for position: StepPosition) throws -> [MicroBatch] {
        // The step's micro-batches on every process: local index i of process p is global i·N + p.
        let global = sharding.globalRange(position.microBatches, global: globalMicroBatchesPerEpoch)
        let rows = EpochOrder.microBatches(global, batchSize: batchSize, count: train.count, seed: dataSeed, epoch: position.epoch,
                                           strategy: sampling, lengths: sampling == .groupByLength ? train.map(\.ids.count) : [],
                                           optimizerBatch: optimizerBatch).map { $0.map { train[$0] } }
        let targets = rows.joined().reduce(0) { $0 + $1.targetCount }
        return zip(position.microBatches, sharding.offsets(position.microBatches, covered: rows.count)).map { index, offset in
            var generator = SeededGenerator(seed: dataSeed ^ (UInt64(position.epoch) << 48) ^ (UInt64(index) << 20)
                                                ^ UInt64(communicator.rank))
            return MicroBatch(sequences: offset.map { rows[$0] } ?? [], stepTargetCount: targets, noiseSeed: generator.next())
        }
    }

    public func loss(of batch: MicroBatch) throws -> MicroBatchLoss {
        guard !batch.sequences.isEmpty else { return MicroBatchLoss(loss: Tensor.scalar(0), tokens: 0) }
        model.neftuneNoise = neftuneNoiseAlpha.map { NEFTuneNoise(alpha: Float($0), seed: batch.noiseSeed) }
        defer { model.neftuneNoise = nil }
        let scored = score(batch.sequences)
        let loss = scored.lossSum / (Float(max(batch.stepTargetCount, 1)) / Float(communicator.size))
        return MicroBatchLoss(loss: loss, metrics: ["entropy": scored.meanEntropy],
                              tokens: batch.sequences.reduce(0) { $0 + $1.ids.count })
    }

    /// `eval_loss` (each batch's token-mean loss, averaged over rows as the HF Trainer averages it:
    /// each batch's loss repeated `eval_batch_size` times, and the repeats past the split's end
    /// dropped by `gather_for_metrics` — packed rows count as rows) and `eval_entropy`, without gradients.
    public func evaluate() throws -> [String: Double]? {
        guard let evaluation else { return nil }
        var loss = 0.0, entropy = 0.0
        Tensor.withoutGrad {
            for start in stride(from: 0, to: evaluation.count, by: evaluationBatchSize) {
                let rows = Array(evaluation[start..<min(start + evaluationBatchSize, evaluation.count)])
                let scored = score(rows)
                let targets = rows.reduce(0) { $0 + $1.targetCount }
                loss += Double(scored.lossSum.item()) / Double(max(targets, 1)) * Double(rows.count)
                entropy += scored.meanEntropy * Double(rows.count)
            }
        }
        return ["loss": loss / Double(evaluation.count), "entropy": entropy / Double(evaluation.count)]
    }

    /// The summed loss of the trained tokens of `rows` (with autograd; TRL's per-token loss, summed
    /// before any division) and the mean entropy of their predicted distributions.
    func score(_ rows: [SFTSequence]) -> (lossSum: Tensor, meanEntropy: Double) {
        // Each document on its own, from its first target (at least 1), the untrained tokens after it
        // masked. Documents without a target still run, so that the pass has TRL's length (NEFTune's L).
        let documents = rows.flatMap(\.documents)
        guard documents.contains(where: { $0.targetCount > 0 }) else { return (Tensor.scalar(0), 0) }
        let starts = documents.map { $0.trained.dropFirst().firstIndex(of: true) ?? $0.ids.count }
        let smoothing = Float(labelSmoothingFactor)
        let scored = model.sequenceLogProbs(documents.map(\.ids), scoredFrom: starts, withEntropy: true,
                                            withMeanNegativeLogProbs: smoothing > 0, paddingFree: paddingFree)
        var mask: [Float] = []
        for (document, start) in zip(documents, starts) { mask += document.trained[start...].map { $0 ? 1 : 0 } }
        let weights = Tensor(shape: [mask.count], values: mask)
        let targets = mask.reduce(0, +)
        let entropy = scored.entropy.map { Double(($0.detached() * weights).sum().item()) } ?? 0
        var perToken = -scored.logProbs
        if lossType == .dft { perToken = perToken * scored.logProbs.detached().exp() }
        if let uniform = scored.meanNegativeLogProbs { perToken = perToken * (1 - smoothing) + uniform * smoothing }
        return ((perToken * weights).sum(), targets > 0 ? entropy / Double(targets) : 0)
    }
}
