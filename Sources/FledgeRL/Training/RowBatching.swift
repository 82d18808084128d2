import FledgeTensor

/// Rows of a split picked by index: one micro-batch of DPO, KTO or reward modelling.
public struct RowMicroBatch: Sendable {
    /// The rows, by index into the split.
    public let indices: [Int]
    /// The seed of the pass's NEFTune embedding noise (`neftune_noise_alpha` of reward modelling, DPO and KTO).
    public let noiseSeed: UInt64
    /// Micro-batches of the step over every process (the divisor of a data-parallel run's loss).
    let stepMicroBatches: Int

    /// Rows `indices` (empty for a process left without a micro-batch at the end of an epoch).
    public init(indices: [Int], noiseSeed: UInt64 = 0) {
        self.init(indices: indices, noiseSeed: noiseSeed, stepMicroBatches: 1)
    }

    init(indices: [Int], noiseSeed: UInt64, stepMicroBatches: Int) {
        self.indices = indices
        self.noiseSeed = noiseSeed
        self.stepMicroBatches = stepMicroBatches
    }
}

/// How an algorithm that trains on the rows of one split (DPO, KTO, reward modelling) walks them: micro-batches
/// of `per_device_train_batch_size` rows in the order `train_sampling_strategy` gives (a shuffle from
/// `data_seed`, else `seed`, that is a pure function of the seed and the epoch, so no generator state
/// needs saving), and evaluation batches of `per_device_eval_batch_size` rows in file order.
///
/// Over several processes (`communicator`), process `p` takes micro-batches `p`, `p + N`, `p + 2N` …
/// of the epoch (Accelerate's sharding of a data loader, ``MicroBatchSharding``), and each micro-batch's
/// loss is divided by the step's micro-batches over all processes and multiplied by `N` (the gradient
/// average divides by it), so `N` processes train as one with `N` times the gradient accumulation,
/// the last step of an epoch included. A process left without a micro-batch adds no gradient.
public struct RowBatching {
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
    let communicator: any Communicator
    private let sharding: MicroBatchSharding

    /// The batching of `rows` training rows with `training`'s batch sizes, seed and sampling strategy,
    /// on this process of `communicator`'s.
    init(rows: Int, training: TrainingArguments, communicator: any Communicator = SingleProcess()) {
        self.rows = rows
        batchSize = training.perDeviceTrainBatchSize
        evaluationBatchSize = training.perDeviceEvalBatchSize
        dataSeed = UInt64(bitPattern: Int64(training.dataSeed ?? training.seed))
        sampling = training.trainSamplingStrategy
        self.communicator = communicator
        sharding = MicroBatchSharding(communicator)
    }

    /// Micro-batches in one pass over the training rows, over every process.
    private var globalMicroBatchesPerEpoch: Int { (rows + batchSize - 1) / batchSize }

    /// This process's micro-batches per epoch.
    var microBatchesPerEpoch: Int { sharding.localCount(global: globalMicroBatchesPerEpoch) }

    /// One process divides by the step's micro-batches in the trainer; several divide in ``loss(of:_:)``.
    var lossScaling: LossScaling { communicator.size == 1 ? .perMicroBatch : .wholeStep }

    /// This process's micro-batches of the step at `position`. The order and the noise seeds are pure
    /// functions of the seed, the epoch and the global micro-batch's index.
    func microBatches(for position: StepPosition) -> [RowMicroBatch] {
        let global = sharding.globalRange(position.microBatches, global: globalMicroBatchesPerEpoch)
        let orders = EpochOrder.microBatches(global, batchSize: batchSize, count: rows, seed: dataSeed,
                                             epoch: position.epoch, strategy: sampling, lengths: [], optimizerBatch: batchSize)
        return sharding.offsets(position.microBatches, covered: orders.count).map { offset in
            guard let offset else { return RowMicroBatch(indices: [], noiseSeed: 0, stepMicroBatches: orders.count) }
            var generator = SeededGenerator(seed: dataSeed ^ (UInt64(position.epoch) << 48) ^ (UInt64(global.lowerBound + offset) << 20))
            return RowMicroBatch(indices: orders[offset], noiseSeed: generator.next(), stepMicroBatches: orders.count)
        }
    }

    /// The loss of `batch` as `compute` gives it for its rows, scaled for a data-parallel step (see the
    /// type's comment); zero for a process left without rows.
    func loss(of batch: RowMicroBatch, _ compute: ([Int]) throws -> MicroBatchLoss) throws -> MicroBatchLoss {
        guard !batch.indices.isEmpty else { return MicroBatchLoss(loss: Tensor.scalar(0), tokens: 0) }
        let result = try compute(batch.indices)
        guard communicator.size > 1 else { return result }
        return MicroBatchLoss(loss: result.loss / (Float(batch.stepMicroBatches) / Float(communicator.size)),
                              metrics: result.metrics, tokens: result.tokens)
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
