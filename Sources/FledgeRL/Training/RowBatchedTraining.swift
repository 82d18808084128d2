/// An algorithm that trains on the rows of one split in micro-batches of rows (``RowBatching``): DPO,
/// KTO and reward modelling. Each micro-batch's loss is a mean over its rows, so the trainer averages
/// accumulated micro-batches (HF's division by `gradient_accumulation_steps`).
public protocol RowBatchedTraining: TrainingAlgorithm where MicroBatch == RowMicroBatch {
    /// How the training rows are batched.
    var rowBatching: RowBatching { get }

    /// The loss and metrics of the training rows `indices`, with autograd.
    func loss(ofTrainingRows indices: [Int]) throws -> MicroBatchLoss
}

extension RowBatchedTraining {
    public var microBatchesPerEpoch: Int { rowBatching.microBatchesPerEpoch }

    public var lossScaling: LossScaling { rowBatching.lossScaling }

    public var communicator: any Communicator { rowBatching.communicator }

    public func microBatches(for position: StepPosition) throws -> [RowMicroBatch] {
        rowBatching.microBatches(for: position)
    }

    public func loss(of batch: RowMicroBatch) throws -> MicroBatchLoss {
        try rowBatching.loss(of: batch) { try loss(ofTrainingRows: $0) }
    }
}
