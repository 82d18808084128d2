/// TRL's `DPOConfig`: Direct Preference Optimization and its loss family.
public struct DPOConfig: TrainerConfig {
    public static let trainer = TrainerKind.dpo

    public var run = RunArguments()
    public var training = TrainingArguments()
    /// Strength of the implicit KL constraint (β; τ for IPO).
    public var beta = 0.1
    /// One loss, or several combined with `loss_weights` (e.g. RPO = `[sigmoid, sft]`).
    public var lossType: [DPOLossType] = [.sigmoid]
    /// Weight of each loss in `loss_type`; `null` means 1 each.
    public var lossWeights: [Double]? = nil
    /// ε of the robust, EXO and AOT losses.
    public var labelSmoothing = 0.0
    /// Longest prompt plus completion, in tokens.
    public var maxLength: Int? = 1024
    /// Which end of an over-long pair to keep.
    public var truncationMode = TruncationMode.keepStart
    /// The divergence whose dual gives the loss (f-DPO).
    public var fDivergenceType = FDivergenceType.reverseKL
    /// α of the alpha divergence.
    public var fAlphaDivergenceCoef = 0.5
    /// LD-DPO weight of the tokens past the shorter completion; `null` means 1.
    public var ldAlpha: Double? = nil
    /// WPO weighting of pairs by their probability under the policy.
    public var useWeighting = false
    /// τ of the DiscoPOP loss.
    public var discopopTau = 0.05
    /// Compute the reference policy's log-probabilities once before training (cached in `output_dir`).
    public var precomputeRefLogProbs = false
    /// Pairs per forward pass of that first pass; `null` means `per_device_train_batch_size` (or the
    /// evaluation batch size for the evaluation split).
    public var precomputeRefBatchSize: Int? = nil
    /// NEFTune, as transformers' `Trainer.train` hooks it onto the trained model's input embeddings:
    /// uniform noise in ±α/√(L·d) (L the padded length of the pass, d the hidden size) on every forward
    /// TRL runs in training mode — the policy's and, with LoRA, the reference pass through the same
    /// model with adapters off; not a separate frozen reference, precomputed reference log-probs or
    /// evaluation. Departure: drawn from Fledge's seeded generator, so the values differ from PyTorch's.
    public var neftuneNoiseAlpha: Double? = nil
    /// TR-DPO's reference-model syncing (`sync_ref_model` …).
    public var referenceSync = ReferenceSyncArguments()

    /// TRL's current defaults.
    public init() {
        training.learningRate = 1e-6
    }

    /// Unsloth's shared defaults.
    public mutating func applyUnslothDefaults() {
        training.applyUnslothDefaults()
    }

    public static var fields: [ConfigField<DPOConfig>] {
        sharedFields(\.run, \.training) + ReferenceSyncArguments.fields.lifted(through: \.referenceSync) + [
            ConfigField("beta", \.beta,
                        .positive.because("the losses divide by it or scale by it (TRL's default is 0.1)")),
            ConfigField("loss_type", \.lossType),
            ConfigField("loss_weights", \.lossWeights, .closed(0, ConfigRange.magnitudeLimit)),
            ConfigField("label_smoothing", \.labelSmoothing, .rightOpen(0, 1)),
            ConfigField("max_length", \.maxLength, .tokens),
            ConfigField("truncation_mode", \.truncationMode),
            ConfigField("f_divergence_type", \.fDivergenceType),
            ConfigField("f_alpha_divergence_coef", \.fAlphaDivergenceCoef, .positive),
            ConfigField("ld_alpha", \.ldAlpha,
                        .fraction.because("1 weights every token; 0 drops the tokens past the shorter completion")),
            ConfigField("use_weighting", \.useWeighting),
            ConfigField("discopop_tau", \.discopopTau, .positive),
            ConfigField("precompute_ref_log_probs", \.precomputeRefLogProbs),
            ConfigField("precompute_ref_batch_size", \.precomputeRefBatchSize, .count),
            ConfigField("neftune_noise_alpha", \.neftuneNoiseAlpha, .closed(0, ConfigRange.magnitudeLimit)),
        ]
    }

    public static var checks: [ConfigCheck<DPOConfig>] {
        [.dpo, .referenceSync(\.referenceSync, precomputed: \.precomputeRefLogProbs), .trainSamplingStrategy(groupsByLength: false)]
    }
}

/// DPO losses (TRL's names).
public enum DPOLossType: String, ConfigChoice, Sendable {
    case sigmoid, hinge, ipo
    case exoPair = "exo_pair"
    case ncaPair = "nca_pair"
    case robust
    case bcoPair = "bco_pair"
    case sppoHard = "sppo_hard"
    case aot
    case aotUnpaired = "aot_unpaired"
    case apoZero = "apo_zero"
    case apoDown = "apo_down"
    case discopop, sft
    case sigmoidNorm = "sigmoid_norm"

    /// Losses that read `label_smoothing`.
    static let usingLabelSmoothing: Set<DPOLossType> = [.robust, .exoPair, .aot, .aotUnpaired]
    /// Losses with an f-divergence generalization (TRL's list).
    static let supportingFDivergence: Set<DPOLossType> = [
        .sigmoid, .sigmoidNorm, .hinge, .ipo, .exoPair, .robust, .discopop, .sft,
    ]
}

/// The f-divergence of f-DPO.
public enum FDivergenceType: String, ConfigChoice, Sendable {
    case reverseKL = "reverse_kl"
    case forwardKL = "forward_kl"
    case jsDivergence = "js_divergence"
    case alphaDivergence = "alpha_divergence"
}
