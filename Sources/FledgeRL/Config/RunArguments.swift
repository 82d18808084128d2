import FledgeLM
/// The run fields of TRL's command-line scripts (`ModelConfig`, `ScriptArguments`) plus Fledge's reward
/// settings. They live in the same file as the trainer's fields, as in `trl grpo --config FILE`.
public struct RunArguments: ConfigFieldTable, Equatable, Sendable {
    /// A local model directory in Hugging Face layout (`config.json`, safetensors, tokenizer), a `.gguf`
    /// file, or a Hub model id (`org/name`, optionally `org/name@revision`) found in the Hugging Face
    /// cache or downloaded into it.
    public var modelNameOrPath: String? = nil
    /// The branch, tag or commit of a Hub model id (`@revision` in the id, when given, takes its place).
    public var modelRevision = "main"
    /// A Hub dataset id (`org/name`, optionally `org/name@revision`: a Fledge addition, as TRL has no
    /// dataset revision field) found in the Hugging Face cache or downloaded into it (README.md and the
    /// chosen config's data files); else a local data file (Parquet, Arrow, JSON Lines, JSON, CSV: the
    /// `train` split), or a dataset folder laid out as on the Hub (README.md `configs:`,
    /// `data/train-00000-of-00001.parquet`, `train.jsonl`, …).
    public var datasetName: String? = nil
    /// The dataset's config (a README.md `configs:` entry), as `load_dataset(name, config)` takes it;
    /// `null` picks the default one.
    public var datasetConfig: String? = nil
    /// The split to train on.
    public var datasetTrainSplit = "train"
    /// The split to evaluate on.
    public var datasetTestSplit = "test"
    /// Train LoRA adapters instead of all weights.
    public var usePeft = false
    /// LoRA rank.
    public var loraR = 16
    /// LoRA scaling numerator (the update is scaled by `lora_alpha / lora_r`).
    public var loraAlpha = 32
    /// Dropout on the LoRA input.
    public var loraDropout = 0.05
    /// Rank-stabilised LoRA (PEFT's `use_rslora`): the update is scaled by `lora_alpha / √lora_r`.
    public var useRslora = false
    /// Weight-decomposed LoRA (PEFT's `use_dora`): each adapted layer also trains a magnitude per
    /// output row (PEFT's formula and file format). Each pass recomputes the row norms of the adapted
    /// weights, which costs about one more product per adapted layer in training.
    public var useDora = false
    /// Module names that get adapters, or `all-linear`; `null` means the architecture's default.
    public var loraTargetModules: [String]? = nil
    /// Weights that get adapters by parameter name (PEFT's `target_parameters`), e.g.
    /// `mlp.down_proj.weight`: the same adapter `lora_target_modules` gives the projection (PEFT runs it
    /// with W + s·B·A), beside the modules `lora_target_modules` adapts (with `null`, the architecture's
    /// default; `[]` for none). As in PEFT, needs `lora_dropout: 0` and no `use_dora`, and a module named
    /// by both is an error.
    public var loraTargetParameters: [String]? = nil
    /// Modules trained whole beside the adapters (PEFT's `modules_to_save`), typically `embed_tokens`
    /// and `lm_head` to learn new tokens or a chat format; named as in `lora_target_modules`. They are
    /// saved in the adapter directory as PEFT saves them, replace the base's weights when merged, and
    /// the reference policy (adapters disabled) uses the base's. Each costs a trainable float copy of
    /// its weight (`vocab × hidden × 4` bytes for a head) and its optimizer state. Needs `use_peft`
    /// (without it every weight trains anyway) and a model whose embedding and head are not tied.
    public var loraModulesToSave: [String]? = nil
    /// Store the frozen base's decoder linear layers in 4 bits (`bnb_4bit_quant_type`), quantized
    /// at load time as bitsandbytes does (QLoRA); needs `use_peft`. Embeddings and the output head
    /// stay float.
    public var loadIn4bit = false
    /// Store the frozen base's decoder linear layers as Fledge's weight-only 8-bit blocks (not
    /// LLM.int8's outlier split; see docs/quantization.md); needs `use_peft`.
    public var loadIn8bit = false
    /// The 4-bit format of `load_in_4bit`: `nf4` (QLoRA's NormalFloat) or `fp4`.
    public var bnb4bitQuantType = FourBitQuantType.nf4
    /// With `load_in_4bit`, quantize each weight's block absmax again (bitsandbytes'
    /// `compress_statistics`); the weights then take bitsandbytes' nested values.
    public var useBnbNestedQuant = false
    /// For a `.gguf` `model_name_or_path`: `keep` its Q8_0/Q4_0/Q4_K linear weights in the file's
    /// blocks under the LoRA adapters, or read them as `float` (float32); `null` chooses `keep` with
    /// `use_peft` and no `load_in_4bit`/`load_in_8bit`, else `float` (see docs/gguf.md).
    public var ggufWeights: GGUFWeights? = nil
    /// Built-in reward functions by name, with an optional argument after a colon (`answer`,
    /// `answer:solution`, `format`, `length:200`, `soft_overlong:128`, `model:PATH`; see `BuiltInRewards`).
    public var rewardFuncs: [String]? = nil
    /// A sequence-classification reward model (a local directory or a Hub id) scoring completions
    /// before the `reward_funcs`, as TRL's `grpo` and `rloo` scripts put it first in their reward list
    /// (the same as a `model:PATH` entry in `reward_funcs`).
    public var rewardModelNameOrPath: String? = nil
    /// A shell command that scores completions, one JSON line in and one out (see `RewardCommand`).
    public var rewardCommand: String? = nil
    /// Seconds `reward_command` may take to answer one line.
    public var rewardCommandTimeout = 60.0

    /// TRL's script defaults.
    public init() {}

    /// Replaces TRL's script defaults with Unsloth's: `FastLanguageModel.get_peft_model` defaults to
    /// `lora_dropout = 0` (PEFT's `LoraConfig` and TRL's `ModelConfig` to 0.05).
    mutating func applyUnslothDefaults() {
        loraDropout = 0
    }

    /// The fields, by TRL name.
    public static var fields: [ConfigField<RunArguments>] {
        [
            ConfigField("model_name_or_path", \.modelNameOrPath),
            ConfigField("model_revision", \.modelRevision),
            ConfigField("dataset_name", \.datasetName),
            ConfigField("dataset_config", \.datasetConfig),
            ConfigField("dataset_train_split", \.datasetTrainSplit),
            ConfigField("dataset_test_split", \.datasetTestSplit),
            ConfigField("use_peft", \.usePeft),
            ConfigField("lora_r", \.loraR, .closed(1, 65_536)),
            ConfigField("lora_alpha", \.loraAlpha, .closed(1, 65_536)),
            ConfigField("lora_dropout", \.loraDropout, .rightOpen(0, 1)),
            ConfigField("use_rslora", \.useRslora),
            ConfigField("use_dora", \.useDora),
            ConfigField("lora_target_modules", \.loraTargetModules),
            ConfigField("lora_target_parameters", \.loraTargetParameters),
            ConfigField("lora_modules_to_save", \.loraModulesToSave),
            ConfigField("load_in_4bit", \.loadIn4bit),
            ConfigField("load_in_8bit", \.loadIn8bit),
            ConfigField("bnb_4bit_quant_type", \.bnb4bitQuantType),
            ConfigField("use_bnb_nested_quant", \.useBnbNestedQuant),
            ConfigField("gguf_weights", \.ggufWeights),
            ConfigField("reward_model_name_or_path", \.rewardModelNameOrPath),
            ConfigField("reward_funcs", \.rewardFuncs),
            ConfigField("reward_command", \.rewardCommand),
            ConfigField("reward_command_timeout", \.rewardCommandTimeout,
                        .leftOpen(0, 86_400).because("at most a day per line")),
        ]
    }
}

/// The 4-bit formats of `bnb_4bit_quant_type`.
public enum FourBitQuantType: String, ConfigChoice, Sendable {
    case nf4, fp4
}

/// `gguf_weights: keep|float`.
extension GGUFWeights: ConfigChoice {}
