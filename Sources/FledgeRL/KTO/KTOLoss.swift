import FledgeTensor

/// The loss of one micro-batch of unpaired rows and the metrics TRL logs for it.
public struct KTOLossResult {
    /// The scalar loss: the mean over the rows of each row's weighted loss.
    public let loss: Tensor
    /// `kl`, `rewards/chosen`, `logps/chosen` (with a desirable row), `rewards/rejected`,
    /// `logps/rejected` (with an undesirable row), `rewards/margins` (with both), `logits/chosen`,
    /// `logits/rejected` (with mean logits and completion tokens on that side).
    public let metrics: [String: Double]
}

/// KTO's loss as TRL 1.16's `KTOTrainer._compute_loss` computes it:
///
/// 1. each row's log-probability summed over its completion, and its log-ratio to the reference,
///    ρ = logp − logp_ref;
/// 2. the KL estimate z = max(0, mean over the batch of logp(y′|x) − logp_ref(y′|x)) over the
///    mismatched completions y′, without gradient (`kto`; 0 for `apo_zero_unpaired`);
/// 3. a desirable row's loss w_d · (1 − σ(β(ρ − z))), an undesirable row's w_u · (1 − σ(β(z − ρ)))
///    (`apo_zero_unpaired`: w_d · (1 − σ(βρ)) and w_u · σ(βρ), the same with z = 0);
/// 4. the mean over the rows.
public struct KTOLoss: Sendable {
    public let beta: Double
    public let lossType: KTOLossType
    public let desirableWeight: Double
    public let undesirableWeight: Double

    public init(beta: Double = 0.1, lossType: KTOLossType = .kto, desirableWeight: Double = 1, undesirableWeight: Double = 1) {
        self.beta = beta
        self.lossType = lossType
        self.desirableWeight = desirableWeight
        self.undesirableWeight = undesirableWeight
    }

    /// The loss of a resolved config.
    public init(config: KTOConfig) {
        self.init(beta: config.beta, lossType: config.lossType, desirableWeight: config.desirableWeight,
                  undesirableWeight: config.undesirableWeight)
    }

    /// The KL estimate of a batch from its mismatched rows' log-probabilities: the mean of their
    /// log-ratios, at least 0.
    public static func klEstimate(policy: [Float], reference: [Float]) -> Float {
        Swift.max(meanLogRatio(policy: policy, reference: reference), 0)
    }

    /// The mean log-ratio of the mismatched rows, before the clamp at 0.
    static func meanLogRatio(policy: [Float], reference: [Float]) -> Float {
        precondition(policy.count == reference.count && !policy.isEmpty,
                     "\(policy.count) policy and \(reference.count) reference log-probs of mismatched completions")
        return zip(policy, reference).reduce(Float(0)) { $0 + ($1.0 - $1.1) } / Float(policy.count)
    }

    /// The loss and metrics of one micro-batch; `averageKL` turns the batch's mean log-ratio into the
    /// one the loss uses before the clamp (in a data-parallel run, its mean over the processes).
    public func compute(_ batch: KTOBatch, averageKL: (Float) throws -> Float = { $0 }) rethrows -> KTOLossResult {
        let rows = batch.counts.count
        precondition(rows > 0 && batch.labels.count == rows && batch.reference.count == rows,
                     "\(batch.labels.count) labels and \(batch.reference.count) reference log-probs for \(rows) rows")
        let layout = TokenRows(counts: batch.counts)
        let sums = layout.grid(batch.logProbs).sum(axis: 1)
        let ratio = sums - Tensor(shape: [rows], values: batch.reference)
        var kl: Float = 0
        if lossType.estimatesKL {
            guard let mismatched = batch.mismatched, let referenceMismatched = batch.referenceMismatched else {
                preconditionFailure("the \(lossType.rawValue) loss needs the mismatched completions' log-probs")
            }
            kl = Swift.max(try averageKL(Self.meanLogRatio(policy: mismatched, reference: referenceMismatched)), 0)
        }
        // Desirable rows: 1 − σ(β(ρ − z)); undesirable rows: 1 − σ(β(z − ρ)) = 1 − σ(−β(ρ − z)).
        let signs = Tensor(shape: [rows], values: batch.labels.map { $0 ? Float(beta) : -Float(beta) })
        let weights = Tensor(shape: [rows], values: batch.labels.map { Float($0 ? desirableWeight : undesirableWeight) })
        let perRow = (1 - ((ratio - kl) * signs).sigmoid()) * weights
        return KTOLossResult(loss: perRow.mean(), metrics: metrics(batch, sums: sums.toArray(), ratios: ratio.toArray(), kl: kl))
    }

    /// TRL's metrics of the batch: per side, the mean reward β·ρ and log-probability over its rows,
    /// and its token-weighted mean logit.
    private func metrics(_ batch: KTOBatch, sums: [Float], ratios: [Float], kl: Float) -> [String: Double] {
        var metrics = ["kl": Double(kl)]
        var offset = 0
        var logits: [Bool: (sum: Double, tokens: Int)] = [:]
        for (row, count) in batch.counts.enumerated() {
            if let meanLogits = batch.meanLogits {
                let total = meanLogits[offset..<(offset + count)].reduce(0) { $0 + Double($1) }
                let current = logits[batch.labels[row]] ?? (0, 0)
                logits[batch.labels[row]] = (current.sum + total, current.tokens + count)
            }
            offset += count
        }
        for (label, side) in [(true, "chosen"), (false, "rejected")] {
            let rows = batch.labels.indices.filter { batch.labels[$0] == label }
            if !rows.isEmpty {
                metrics["rewards/\(side)"] = rows.reduce(0) { $0 + beta * Double(ratios[$1]) } / Double(rows.count)
                metrics["logps/\(side)"] = rows.reduce(0) { $0 + Double(sums[$1]) } / Double(rows.count)
            }
            if let (sum, tokens) = logits[label], tokens > 0 { metrics["logits/\(side)"] = sum / Double(tokens) }
        }
        if let chosen = metrics["rewards/chosen"], let rejected = metrics["rewards/rejected"] {
            metrics["rewards/margins"] = chosen - rejected
        }
        return metrics
    }
}
