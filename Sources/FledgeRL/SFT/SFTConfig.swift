/// TRL's `SFTConfig`: supervised fine-tuning, usually the step before RL.
public struct SFTConfig: TrainerConfig {
    public static let trainer = TrainerKind.sft

    public var run = RunArguments()
    public var training = TrainingArguments()
    /// Longest tokenized example; longer ones are truncated.
    public var maxLength: Int? = 1024
    /// The dataset column holding plain text.
    public var datasetTextField = "text"
    /// Train only on completion tokens of prompt/completion rows; `null` means yes when there is a prompt.
    public var completionOnlyLoss: Bool? = nil
    /// Train only on assistant turns of conversations.
    public var assistantOnlyLoss = false
    /// Keep the start (`keep_start`) or the end (`keep_end`) of over-long examples.
    public var truncationMode = TruncationMode.keepStart
    /// Shuffle the examples once, with `seed`, before packing them (rows are visited in a shuffled
    /// order each epoch anyway). Departure: Fledge's seeded shuffle, not `datasets`', so packed rows
    /// hold other examples than TRL's.
    public var shuffleDataset = false
    /// The token that ends each example and turn (appended to plain text, `eos_token` in the chat
    /// template), replacing the tokenizer's; it must be in the vocabulary.
    public var eosToken: String? = nil
    /// A Jinja chat template file (`.jinja` or `.j2`) replacing the tokenizer's chat template.
    public var chatTemplatePath: String? = nil
    /// Pack the training examples into rows of `max_length` tokens, as TRL's `pack_dataset` does; with
    /// `bfd`/`bfd_split` the rows run padding-free: each example attends only to itself and its
    /// positions restart at 0, so it trains exactly as unpacked.
    public var packing = false
    /// How packing fills its rows: `bfd` (best-fit decreasing; longer examples lose their end),
    /// `bfd_split` (longer examples split into pieces), `wrapped` (cut every `max_length` tokens;
    /// a row attends across the examples it holds).
    public var packingStrategy = PackingStrategy.bfd
    /// Pack the evaluation examples too; `null` follows `packing`.
    public var evalPacking: Bool? = nil
    /// The token loss: `nll`, or `dft` (each token's loss weighted by its detached probability).
    public var lossType = SFTLossType.nll
    /// NEFTune: during training, uniform noise in ±α/√(L·d) added to the input embeddings (L the
    /// padded length of a micro-batch, or all its tokens when padding-free; d the hidden size).
    /// Departure: drawn from Fledge's seeded generator, so the values differ from PyTorch's.
    public var neftuneNoiseAlpha: Double? = nil
    /// Label smoothing ε of the `nll` loss, as transformers' `LabelSmoother`: (1 − ε) · nll + ε · the
    /// mean of −log p over the vocabulary, both over the trained tokens (deprecated in TRL).
    public var labelSmoothingFactor = 0.0

    /// TRL's current defaults.
    public init() {
        training.learningRate = 2e-5
    }

    /// Unsloth's shared defaults.
    public mutating func applyUnslothDefaults() {
        training.applyUnslothDefaults()
    }

    public static var fields: [ConfigField<SFTConfig>] {
        sharedFields(\.run, \.training) + [
            ConfigField("max_length", \.maxLength, .tokens),
            ConfigField("dataset_text_field", \.datasetTextField),
            ConfigField("completion_only_loss", \.completionOnlyLoss),
            ConfigField("assistant_only_loss", \.assistantOnlyLoss),
            ConfigField("truncation_mode", \.truncationMode),
            ConfigField("shuffle_dataset", \.shuffleDataset),
            ConfigField("eos_token", \.eosToken),
            ConfigField("chat_template_path", \.chatTemplatePath),
            ConfigField("packing", \.packing),
            ConfigField("packing_strategy", \.packingStrategy),
            ConfigField("eval_packing", \.evalPacking),
            ConfigField("loss_type", \.lossType),
            ConfigField("neftune_noise_alpha", \.neftuneNoiseAlpha, .closed(0, ConfigRange.magnitudeLimit)),
            ConfigField("label_smoothing_factor", \.labelSmoothingFactor, .fraction),
        ]
    }

    public static var checks: [ConfigCheck<SFTConfig>] { [.sft, .trainSamplingStrategy(groupsByLength: true)] }

    /// Whether the evaluation split is packed (`eval_packing`, else `packing`).
    public var packsEvaluation: Bool { evalPacking ?? packing }

    /// Whether training and evaluation batches run padding-free: their rows' documents end to end,
    /// attending only within themselves (TRL turns this on for `bfd` and `bfd_split` packing, for
    /// both splits, whatever `eval_packing` says).
    public var isPaddingFree: Bool { packing && packingStrategy != .wrapped }
}

/// Which end of an over-long example to keep (TRL's names; `keep_end` is deprecated in TRL).
public enum TruncationMode: String, ConfigChoice, Sendable {
    case keepStart = "keep_start"
    case keepEnd = "keep_end"
}
