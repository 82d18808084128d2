import Foundation
import FledgeLM
import FledgeTensor

/// Reward modelling as TRL's `RewardTrainer` trains it: each micro-batch of pairs runs the chosen and
/// then the rejected sequences through a one-label sequence classifier as one batch, reads each
/// sequence's reward at its last non-padding token, and takes the Bradley–Terry loss (``RewardLoss``).
///
/// The loss of a micro-batch is a mean over its pairs, so the trainer averages accumulated
/// micro-batches (HF's division by `gradient_accumulation_steps`). Pairs are shuffled every epoch
/// from `data_seed` (else `seed`).
///
/// Over several processes (`communicator`), process `p` takes micro-batches `p`, `p + N`, `p + 2N` …
/// of the epoch (Accelerate's sharding of a data loader), and each micro-batch's loss is divided by
/// the step's micro-batches over all processes and multiplied by `N` (the gradient average divides
/// by it), so `N` processes train as one with `N` times the gradient accumulation, the last step of
/// an epoch included. A process left without a micro-batch at the end of an epoch adds no gradient.
public final class RewardModeling: TrainingAlgorithm {
    /// The pairs of one forward/backward pass, by index into the split.
    public struct MicroBatch {
        /// Empty for a process left without a micro-batch at the end of an epoch.
        public let indices: [Int]
        /// Micro-batches of the step over every process (the divisor of a data-parallel run's loss).
        var stepMicroBatches = 1
    }

    public let model: SequenceClassifier
    public let train: [RewardPair]
    public let evaluation: [RewardPair]?
    public let loss: RewardLoss
    private let batchSize: Int
    private let evaluationBatchSize: Int
    private let dataSeed: UInt64
    /// Random or file order (`train_sampling_strategy`).
    private let sampling: TrainSamplingStrategy
    public let communicator: any Communicator
    private let sharding: MicroBatchSharding

    /// Reward modelling of `model` (see ``TrainingModels/rewardModel(_:tokenizer:)``) on `train` (and
    /// `evaluation`) with `config`'s loss, batch and seed settings, `per_device_train_batch_size` pairs per
    /// micro-batch on each of the `communicator`'s processes; throws when a setting is out of range or a
    /// token id is outside the model's vocabulary.
    public init(model: SequenceClassifier, train: [RewardPair], evaluation: [RewardPair]? = nil, config: RewardConfig,
                communicator: any Communicator = SingleProcess()) throws {
        try config.checkRanges()
        let vocabulary = model.config.vocabSize
        for pair in train + (evaluation ?? []) {
            if let id = (pair.chosen + pair.rejected).first(where: { $0 < 0 || $0 >= vocabulary }) {
                throw TrainingError.invalidSetting("token id \(id) is outside the model's vocabulary of \(vocabulary); "
                    + "the tokenizer does not belong to this model")
            }
        }
        self.model = model
        self.train = train
        self.evaluation = evaluation
        loss = RewardLoss(centerRewardsCoefficient: config.centerRewardsCoefficient)
        batchSize = config.training.perDeviceTrainBatchSize
        evaluationBatchSize = config.training.perDeviceEvalBatchSize
        dataSeed = UInt64(bitPattern: Int64(config.training.dataSeed ?? config.training.seed))
        sampling = config.training.trainSamplingStrategy
        self.communicator = communicator
        sharding = MicroBatchSharding(communicator)
    }

    /// This process's micro-batches per epoch.
    public var microBatchesPerEpoch: Int { sharding.localCount(global: (train.count + batchSize - 1) / batchSize) }

    /// One process divides by the step's micro-batches in the trainer; several divide in ``loss(of:)``.
    public var lossScaling: LossScaling { communicator.size == 1 ? .perMicroBatch : .wholeStep }

    /// The order is a pure function of the seed and the epoch, so no generator state needs saving.
    public func microBatches(for position: StepPosition) throws -> [MicroBatch] {
        let global = sharding.globalRange(position.microBatches, global: (train.count + batchSize - 1) / batchSize)
        let batches = EpochOrder.microBatches(global, batchSize: batchSize, count: train.count, seed: dataSeed,
                                              epoch: position.epoch, strategy: sampling, lengths: [], optimizerBatch: batchSize)
        return sharding.offsets(position.microBatches, covered: batches.count).map { offset in
            MicroBatch(indices: offset.map { batches[$0] } ?? [], stepMicroBatches: batches.count)
        }
    }

    public func loss(of batch: MicroBatch) throws -> MicroBatchLoss {
        guard !batch.indices.isEmpty else { return MicroBatchLoss(loss: Tensor.scalar(0), tokens: 0) }
        let result = compute(batch.indices.map { train[$0] })
        guard communicator.size > 1 else { return result }
        return MicroBatchLoss(loss: result.loss / (Float(batch.stepMicroBatches) / Float(communicator.size)),
                              metrics: result.metrics, tokens: result.tokens)
    }

    /// `eval_loss` (the mean over pairs, as the HF Trainer weights each batch's loss by its size) and
    /// TRL's metrics (the mean over batches, as TRL averages its per-batch lists), without gradients.
    public func evaluate() throws -> [String: Double]? {
        guard let evaluation else { return nil }
        var loss = 0.0, totals: [String: Double] = [:], batches = 0
        Tensor.withoutGrad {
            for start in stride(from: 0, to: evaluation.count, by: evaluationBatchSize) {
                let pairs = Array(evaluation[start..<min(start + evaluationBatchSize, evaluation.count)])
                let result = compute(pairs)
                loss += Double(result.loss.item()) * Double(pairs.count)
                for (name, value) in result.metrics { totals[name, default: 0] += value }
                batches += 1
            }
        }
        var results = totals.mapValues { $0 / Double(batches) }
        results["loss"] = loss / Double(evaluation.count)
        return results
    }

    /// The loss and metrics of `pairs`: the chosen sequences and then the rejected ones scored as one
    /// batch; the margins when the rows have them.
    private func compute(_ pairs: [RewardPair]) -> MicroBatchLoss {
        let sequences = pairs.map(\.chosen) + pairs.map(\.rejected)
        let rewards = model.lastNonPadScores(sequences)
        let margins = pairs[0].margin == nil ? nil : pairs.map { $0.margin ?? 0 }
        let result = loss.compute(rewards: rewards, margins: margins)
        return MicroBatchLoss(loss: result.loss, metrics: result.metrics, tokens: sequences.reduce(0) { $0 + $1.count })
    }
}
