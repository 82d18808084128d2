/// TRL's `KTOConfig`: Kahneman–Tversky Optimization on unpaired desirable/undesirable completions.
public struct KTOConfig: TrainerConfig {
    public static let trainer = TrainerKind.kto

    public var run = RunArguments()
    public var training = TrainingArguments()
    /// Strength of the implicit KL constraint (β).
    public var beta = 0.1
    /// The loss: KTO's (with the KL estimate), or the unpaired APO-zero loss (no KL term).
    public var lossType = KTOLossType.kto
    /// Weight of the desirable rows' losses, to balance unequal numbers of desirable and undesirable rows.
    public var desirableWeight = 1.0
    /// Weight of the undesirable rows' losses.
    public var undesirableWeight = 1.0
    /// Longest prompt plus completion, in tokens (cut from the right).
    public var maxLength: Int? = 1024
    /// Compute the reference policy's log-probabilities once before training (cached in `output_dir`).
    public var precomputeRefLogProbs = false
    /// Rows per forward pass of that first pass; `null` means `per_device_train_batch_size` (or the
    /// evaluation batch size for the evaluation split).
    public var precomputeRefBatchSize: Int? = nil
    /// NEFTune, as transformers' `Trainer.train` hooks it onto the trained model's input embeddings:
    /// uniform noise in ±α/√(L·d) (L the padded length of the pass, d the hidden size) on every forward
    /// TRL runs in training mode — the policy's, the KL pass over mismatched completions and, with LoRA,
    /// the reference passes through the same model with adapters off; not a separate frozen reference, precomputed reference log-probs or
    /// evaluation. Departure: drawn from Fledge's seeded generator, so the values differ from PyTorch's.
    public var neftuneNoiseAlpha: Double? = nil
    /// TR-DPO's reference-model syncing (`sync_ref_model` …).
    public var referenceSync = ReferenceSyncArguments()

    /// TRL's current defaults.
    public init() {
        training.learningRate = 1e-6
        // KTO's KL estimate needs rows in file order (KTOConfig's own default).
        training.trainSamplingStrategy = .sequential
    }

    /// Unsloth's shared defaults (Unsloth's KTO trainer keeps TRL's KTO fields).
    public mutating func applyUnslothDefaults() {
        training.applyUnslothDefaults()
    }

    public static var fields: [ConfigField<KTOConfig>] {
        sharedFields(\.run, \.training) + ReferenceSyncArguments.fields.lifted(through: \.referenceSync) + [
            ConfigField("beta", \.beta,
                        .positive.because("the loss scales the log-ratios by it (TRL's default is 0.1)")),
            ConfigField("loss_type", \.lossType),
            ConfigField("desirable_weight", \.desirableWeight, .closed(0, ConfigRange.magnitudeLimit)),
            ConfigField("undesirable_weight", \.undesirableWeight, .closed(0, ConfigRange.magnitudeLimit)),
            ConfigField("max_length", \.maxLength, .tokens),
            ConfigField("precompute_ref_log_probs", \.precomputeRefLogProbs),
            ConfigField("precompute_ref_batch_size", \.precomputeRefBatchSize, .count),
            ConfigField("neftune_noise_alpha", \.neftuneNoiseAlpha, .closed(0, ConfigRange.magnitudeLimit)),
        ]
    }

    public static var checks: [ConfigCheck<KTOConfig>] {
        [.kto, .referenceSync(\.referenceSync, precomputed: \.precomputeRefLogProbs), .trainSamplingStrategy(groupsByLength: false)]
    }
}

/// KTO losses (TRL 1.16's names).
public enum KTOLossType: String, ConfigChoice, Sendable {
    /// Eq. (7) of the KTO paper: desirable rows 1 − σ(β(ρ − z)), undesirable rows 1 − σ(β(z − ρ)),
    /// with z the batch's KL estimate.
    case kto
    /// The unpaired variant of APO-zero: 1 − σ(βρ) and σ(βρ), no KL term.
    case apoZeroUnpaired = "apo_zero_unpaired"

    /// Whether the loss needs the KL estimate from mismatched prompt/completion pairs.
    public var estimatesKL: Bool { self == .kto }
}

