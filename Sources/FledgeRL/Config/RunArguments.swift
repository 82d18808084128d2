/// The run fields of TRL's command-line scripts (`ModelConfig`, `ScriptArguments`) plus Fledge's reward
/// settings. They live in the same file as the trainer's fields, as in `trl grpo --config FILE`.
public struct RunArguments: ConfigFieldTable, Equatable, Sendable {
    /// A local model directory in Hugging Face layout (`config.json`, safetensors, tokenizer), or a Hub
    /// model id (`org/name`, optionally `org/name@revision`) found in the Hugging Face cache or
    /// downloaded into it.
    public var modelNameOrPath: String? = nil
    /// The branch, tag or commit of a Hub model id (`@revision` in the id, when given, takes its place).
    public var modelRevision = "main"
    /// A local JSON Lines file, or a folder holding `train.jsonl` (and optionally `test.jsonl`).
    public var datasetName: String? = nil
    /// The split to train on when `dataset_name` is a folder.
    public var datasetTrainSplit = "train"
    /// The split to evaluate on when `dataset_name` is a folder.
    public var datasetTestSplit = "test"
    /// Train LoRA adapters instead of all weights.
    public var usePeft = false
    /// LoRA rank.
    public var loraR = 16
    /// LoRA scaling numerator (the update is scaled by `lora_alpha / lora_r`).
    public var loraAlpha = 32
    /// Dropout on the LoRA input.
    public var loraDropout = 0.05
    /// Module names that get adapters, or `all-linear`; `null` means the architecture's default.
    public var loraTargetModules: [String]? = nil
    /// Built-in reward functions by name, with an optional argument after a colon (`answer`,
    /// `answer:solution`, `format`, `length:200`, `soft_overlong:128`, `model:PATH`; see `BuiltInRewards`).
    public var rewardFuncs: [String]? = nil
    /// A shell command that scores completions, one JSON line in and one out (see `RewardCommand`).
    public var rewardCommand: String? = nil
    /// Seconds `reward_command` may take to answer one line.
    public var rewardCommandTimeout = 60.0

    /// TRL's script defaults.
    public init() {}

    /// The fields, by TRL name.
    public static var fields: [ConfigField<RunArguments>] {
        [
            ConfigField("model_name_or_path", \.modelNameOrPath),
            ConfigField("model_revision", \.modelRevision),
            ConfigField("dataset_name", \.datasetName),
            ConfigField("dataset_train_split", \.datasetTrainSplit),
            ConfigField("dataset_test_split", \.datasetTestSplit),
            ConfigField("use_peft", \.usePeft),
            ConfigField("lora_r", \.loraR, .closed(1, 65_536)),
            ConfigField("lora_alpha", \.loraAlpha, .closed(1, 65_536)),
            ConfigField("lora_dropout", \.loraDropout, .rightOpen(0, 1)),
            ConfigField("lora_target_modules", \.loraTargetModules),
            ConfigField("reward_funcs", \.rewardFuncs),
            ConfigField("reward_command", \.rewardCommand),
            ConfigField("reward_command_timeout", \.rewardCommandTimeout,
                        .leftOpen(0, 86_400).because("at most a day per line")),
        ]
    }
}
