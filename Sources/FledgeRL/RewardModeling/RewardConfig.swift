/// TRL's `RewardConfig`: a reward model (a one-label sequence classifier) trained on preference pairs
/// with the Bradley–Terry loss.
public struct RewardConfig: TrainerConfig {
    public static let trainer = TrainerKind.reward

    public var run = RunArguments()
    public var training = TrainingArguments()
    /// Longest tokenized chosen or rejected sequence; a pair with a longer one is left out (not
    /// truncated). `null` keeps every pair.
    public var maxLength: Int? = 1024
    /// Weight of the mean squared reward added to the loss, pulling rewards towards zero (TRL recommends
    /// 0.01); `null` adds nothing.
    public var centerRewardsCoefficient: Double? = nil
    /// The token whose id marks padding: the score is read at the last token of a sequence that is not
    /// it (`pad_token_id` of the saved model). `null` means the tokenizer's `pad_token`, else its
    /// `eos_token`. Deprecated in TRL, which reads the tokenizer's.
    public var padToken: String? = nil
    /// The token that ends each sequence (appended to plain text, `eos_token` in the chat template),
    /// replacing the tokenizer's; it must be in the vocabulary.
    public var eosToken: String? = nil
    /// A Jinja chat template file (`.jinja` or `.j2`) replacing the tokenizer's chat template.
    public var chatTemplatePath: String? = nil
    /// NEFTune, as transformers' `Trainer.train` hooks it onto every trainer's input embeddings: in
    /// training passes, uniform noise in ±α/√(L·d) added to the embeddings (L the padded length of the
    /// micro-batch's chosen and rejected sequences together, d the hidden size); evaluation sees none.
    /// Departure: drawn from Fledge's seeded generator, so the values differ from PyTorch's.
    public var neftuneNoiseAlpha: Double? = nil

    /// TRL's current defaults.
    public init() {
        training.learningRate = 1e-4
    }

    /// Unsloth's shared defaults.
    public mutating func applyUnslothDefaults() {
        training.applyUnslothDefaults()
    }

    public static var fields: [ConfigField<RewardConfig>] {
        sharedFields(\.run, \.training) + [
            ConfigField("max_length", \.maxLength, .tokens),
            ConfigField("center_rewards_coefficient", \.centerRewardsCoefficient,
                        .closed(0, ConfigRange.magnitudeLimit).because("a negative weight would push rewards away from zero")),
            ConfigField("pad_token", \.padToken),
            ConfigField("eos_token", \.eosToken),
            ConfigField("chat_template_path", \.chatTemplatePath),
            ConfigField("neftune_noise_alpha", \.neftuneNoiseAlpha, .closed(0, ConfigRange.magnitudeLimit)),
        ]
    }

    public static var checks: [ConfigCheck<RewardConfig>] { [.trainSamplingStrategy(groupsByLength: false)] }
}
