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
public final class RewardModeling: TrainingAlgorithm {
    /// The pairs of one forward/backward pass, by index into the split, and the seed of the pass's
    /// NEFTune noise.
    public struct MicroBatch {
        public let indices: [Int]
        public let noiseSeed: UInt64

        public init(indices: [Int], noiseSeed: UInt64 = 0) {
            self.indices = indices
            self.noiseSeed = noiseSeed
        }
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
    /// NEFTune's α (`neftune_noise_alpha`), or nil for no embedding noise.
    private let neftuneNoiseAlpha: Double?

    /// Reward modelling of `model` (see ``TrainingModels/rewardModel(_:tokenizer:)``) on `train` (and
    /// `evaluation`) with `config`'s loss, batch and seed settings; throws when a setting is out of
    /// range or a token id is outside the model's vocabulary.
    public init(model: SequenceClassifier, train: [RewardPair], evaluation: [RewardPair]? = nil, config: RewardConfig) throws {
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
        neftuneNoiseAlpha = config.neftuneNoiseAlpha
    }

    public var microBatchesPerEpoch: Int { (train.count + batchSize - 1) / batchSize }

    public var lossScaling: LossScaling { .perMicroBatch }

    /// The order and the noise seeds are pure functions of the seed, the epoch and the micro-batch's
    /// index, so no generator state needs saving.
    public func microBatches(for position: StepPosition) throws -> [MicroBatch] {
        let orders = EpochOrder.microBatches(position.microBatches, batchSize: batchSize, count: train.count, seed: dataSeed,
                                             epoch: position.epoch, strategy: sampling, lengths: [], optimizerBatch: batchSize)
        return zip(position.microBatches, orders).map { index, indices in
            var generator = SeededGenerator(seed: dataSeed ^ (UInt64(position.epoch) << 48) ^ (UInt64(index) << 20))
            return MicroBatch(indices: indices, noiseSeed: generator.next())
        }
    }

    public func loss(of batch: MicroBatch) throws -> MicroBatchLoss {
        model.neftuneNoise = neftuneNoiseAlpha.map { NEFTuneNoise(alpha: Float($0), seed: batch.noiseSeed) }
        defer { model.neftuneNoise = nil }
        return compute(batch.indices.map { train[$0] })
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
