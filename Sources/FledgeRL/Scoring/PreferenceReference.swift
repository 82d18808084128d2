/// Where DPO's and KTO's reference log-probabilities come from: computed once before training for each
/// split (`precompute_ref_log_probs`: ``PrecomputedReference``, ``KTOPrecomputedReference``), or the
/// reference policy scored with each batch.
enum PreferenceReference<Precomputed> {
    /// The values of the training split and of the evaluation split, if any.
    case precomputed(train: Precomputed, evaluation: Precomputed?)
    /// The policy to score each batch with.
    case scored(ReferencePolicy)

    /// A split of the run.
    enum Split {
        case train, evaluation
    }

    /// With `precomputing`, the values `precompute(rows, split name, batch size)` gives for the training
    /// rows and then the evaluation rows (in batches of `precomputeBatchSize`, else of the split's
    /// per-device batch size); else `reference`, scored with each batch. The values are computed with
    /// the run's products (bfloat16 with `bf16: true`), as TRL computes them under `accelerator.autocast()`.
    init<Row>(precomputing: Bool, reference: ReferencePolicy, train: [Row], evaluation: [Row]?, training: TrainingArguments,
              precomputeBatchSize: Int?, _ precompute: ([Row], String, Int) throws -> Precomputed) rethrows {
        guard precomputing else {
            self = .scored(reference)
            return
        }
        self = try Autocast.$precision.withValue(training.productPrecision) {
            let trainValues = try precompute(train, "train", precomputeBatchSize ?? training.perDeviceTrainBatchSize)
            let evaluationValues = try evaluation.map { try precompute($0, "eval", precomputeBatchSize ?? training.perDeviceEvalBatchSize) }
            return .precomputed(train: trainValues, evaluation: evaluationValues)
        }
    }

    /// The policy scored with each batch; nil when every value was precomputed.
    var policy: ReferencePolicy? {
        if case .scored(let policy) = self { return policy }
        return nil
    }

    /// The precomputed values of `split`, if any.
    func precomputed(_ split: Split) -> Precomputed? {
        guard case let .precomputed(train, evaluation) = self else { return nil }
        return split == .train ? train : evaluation
    }

    /// The reference values of the rows `indices` of `split`: `read` from the split's precomputed values,
    /// or `score`d with the policy.
    func values<Values>(_ indices: [Int], of split: Split, read: (Precomputed, [Int]) -> Values,
                        score: (ReferencePolicy) -> Values) -> Values {
        switch self {
        case .scored(let policy):
            return score(policy)
        case .precomputed:
            guard let values = precomputed(split) else { preconditionFailure("reference values of the \(split) split were not precomputed") }
            return read(values, indices)
        }
    }
}
