import FledgeTensor

/// Rows of a split picked by index: one micro-batch of DPO, KTO or reward modelling.
public struct RowMicroBatch: Sendable {
    /// The rows, by index into the split.
    public let indices: [Int]
    /// The seed of the pass's NEFTune embedding noise (`neftune_noise_alpha` of reward modelling, DPO and KTO).
    public let noiseSeed: UInt64

    public init(indices: [Int], noiseSeed: UInt64 = 0) {
        self.indices = indices
        self.noiseSeed = noiseSeed
    }
}

/// How an algorithm that trains on the rows of one split (DPO, KTO, reward modelling) walks them: micro-batches
/// of `per_device_train_batch_size` rows in the order `train_sampling_strategy` gives (a shuffle from
/// `data_seed`, else `seed`, that is a pure function of the seed and the epoch, so no generator state
/// needs saving), and evaluation batches of `per_device_eval_batch_size` rows in file order.
public struct RowBatching: Sendable {
    /// How the evaluation metrics are averaged.
    enum MetricAveraging {
        /// Each metric the mean over the rows (each batch weighted by its size), as DPO's metrics are.
        case overRows
        /// Each metric the mean over the batches that log it, as TRL averages its per-batch metric lists.
        case overBatches
    }

    let rows: Int
    let batchSize: Int
    let evaluationBatchSize: Int
    let dataSeed: UInt64
    let sampling: TrainSamplingStrategy

    /// The batching of `rows` training rows with `training`'s batch sizes, seed and sampling strategy.
    init(rows: Int, training: TrainingArguments) {
        self.rows = rows
        batchSize = training.perDeviceTrainBatchSize
        evaluationBatchSize = training.perDeviceEvalBatchSize
        dataSeed = UInt64(bitPattern: Int64(training.dataSeed ?? training.seed))
        sampling = training.trainSamplingStrategy
    }

    /// Micro-batches in one pass over the training rows.
    var microBatchesPerEpoch: Int { (rows + batchSize - 1) / batchSize }

    /// The micro-batches of the step at `position`. The order and the noise seeds are pure functions of
    /// the seed, the epoch and the micro-batch's index.
    func microBatches(for position: StepPosition) -> [RowMicroBatch] {
        let orders = EpochOrder.microBatches(position.microBatches, batchSize: batchSize, count: rows, seed: dataSeed,
                                             epoch: position.epoch, strategy: sampling, lengths: [], optimizerBatch: batchSize)
        return zip(position.microBatches, orders).map { index, indices in
            var generator = SeededGenerator(seed: dataSeed ^ (UInt64(position.epoch) << 48) ^ (UInt64(index) << 20))
            return RowMicroBatch(indices: indices, noiseSeed: generator.next())
        }
    }

    /// `eval_loss` (the mean over the rows, as the HF evaluation loop weights each batch's loss by its size)
    /// and the metrics, averaged as `metrics` says, of an evaluation split of `count` rows whose batches
    /// `loss` computes, without gradients.
    func evaluate(count: Int, metrics averaging: MetricAveraging,
                  _ loss: ([Int]) throws -> MicroBatchLoss) throws -> [String: Double] {
        var totalLoss = 0.0
        var totals: [String: (sum: Double, weight: Double)] = [:]
        try Tensor.withoutGrad {
            for start in stride(from: 0, to: count, by: evaluationBatchSize) {
                let indices = Array(start..<min(start + evaluationBatchSize, count))
                let result = try loss(indices)
                totalLoss += Double(result.loss.item()) * Double(indices.count)
                let weight = averaging == .overRows ? Double(indices.count) : 1
                for (name, value) in result.metrics {
                    let current = totals[name] ?? (0, 0)
                    totals[name] = (current.sum + (averaging == .overRows ? value * weight : value), current.weight + weight)
                }
            }
        }
        return totals.mapValues { $0.sum / $0.weight }.merging(["loss": totalLoss / Double(count)]) { $1 }
    }
}
