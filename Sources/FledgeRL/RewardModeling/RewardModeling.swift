import Foundation
import FledgeLM
import FledgeTensor

/// Reward modelling as TRL's `RewardTrainer` trains it: each micro-batch of pairs runs the chosen and
/// then the rejected sequences through a one-label sequence classifier as one batch, reads each
/// sequence's reward at its last non-padding token, and takes the Bradley–Terry loss (``RewardLoss``).
///
/// Pairs are batched as ``RowBatching`` says.
public final class RewardModeling: RowBatchedTraining {
    public typealias MicroBatch = RowMicroBatch

    public let model: SequenceClassifier
    public let train: [RewardPair]
    public let evaluation: [RewardPair]?
    public let loss: RewardLoss
    public let rowBatching: RowBatching
    /// NEFTune's α (`neftune_noise_alpha`), or nil for no embedding noise.
    private let neftuneNoiseAlpha: Double?

    /// Reward modelling of `model` (see ``TrainingModels/rewardModel(_:tokenizer:)``) on `train` (and
    /// `evaluation`) with `config`'s loss, batch and seed settings, `per_device_train_batch_size` pairs per
    /// micro-batch on each of the `communicator`'s processes (see ``RowBatching``); throws when a setting is out of range or a
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
        rowBatching = RowBatching(rows: train.count, training: config.training, communicator: communicator)
        neftuneNoiseAlpha = config.neftuneNoiseAlpha
    }

    /// The loss of a training micro-batch, with NEFTune noise from the batch's seed on the embeddings
    /// when `neftune_noise_alpha` is set (TRL's hook noises every training-mode forward).
    public func loss(of batch: RowMicroBatch) throws -> MicroBatchLoss {
        try model.withNEFTuneNoise(neftuneNoiseAlpha.map { NEFTuneNoise(alpha: Float($0), seed: batch.noiseSeed) }) {
            try rowBatching.loss(of: batch) { try loss(ofTrainingRows: $0) }
        }
    }

    public func loss(ofTrainingRows indices: [Int]) throws -> MicroBatchLoss {
        compute(indices.map { train[$0] })
    }

    /// `eval_loss` (the mean over pairs, as the HF Trainer weights each batch's loss by its size) and
    /// TRL's metrics (the mean over batches, as TRL averages its per-batch lists), without gradients.
    public func evaluate() throws -> [String: Double]? {
        guard let evaluation else { return nil }
        return try rowBatching.evaluate(count: evaluation.count, metrics: .overBatches) { indices in
            compute(indices.map { evaluation[$0] })
        }
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
