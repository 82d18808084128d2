import Foundation

/// The fields of transformers' `TrainingArguments` that Fledge's trainer loop uses, with the defaults of
/// TRL's `_BaseConfig` (each trainer config then sets its own learning rate).
public struct TrainingArguments: ConfigFieldTable, Equatable, Sendable {
    /// Where checkpoints, metrics and `config.resolved.yaml` go; `null` means `trainer_output`.
    public var outputDir: String? = nil
    /// Rows per forward/backward pass (for GRPO: completions, not prompts).
    public var perDeviceTrainBatchSize = 8
    /// Rows per evaluation pass.
    public var perDeviceEvalBatchSize = 8
    /// Micro-batches accumulated into one optimizer step.
    public var gradientAccumulationSteps = 1
    /// Evaluation batches gathered before metrics are computed; `null` means all.
    public var evalAccumulationSteps: Int? = nil
    /// Peak learning rate.
    public var learningRate = 5e-5
    /// Decoupled weight decay of AdamW.
    public var weightDecay = 0.0
    /// AdamW β₁, β₂ and ε.
    public var adamBeta1 = 0.9
    public var adamBeta2 = 0.999
    public var adamEpsilon = 1e-8
    /// Gradient-norm clipping threshold.
    public var maxGradNorm = 1.0
    /// Passes over the dataset (ignored when `max_steps` is positive).
    public var numTrainEpochs = 3.0
    /// Optimizer steps to run; `-1` means use `num_train_epochs`.
    public var maxSteps = -1
    /// The learning-rate schedule after warm-up.
    public var lrSchedulerType = LRSchedulerType.linear
    /// The schedule's extra arguments (`num_cycles`, `min_lr`, `num_decay_steps` …), as transformers'
    /// `get_scheduler` takes them.
    public var lrSchedulerKwargs: KeywordArguments? = nil
    /// Warm-up length in optimizer steps; a value below 1 is a fraction of all steps (transformers 5).
    public var warmupSteps = 0.0
    /// Warm-up as a fraction of all steps (transformers 4's field); used when `warmup_steps` is 0.
    public var warmupRatio = 0.0
    /// When to log: every `logging_steps` steps, at the end of each epoch, or never (the first step is
    /// still logged with `logging_first_step`).
    public var loggingStrategy = IntervalStrategy.steps
    /// Log every this many optimizer steps (with `logging_strategy: steps`).
    public var loggingSteps = 10
    /// Also log the first optimizer step.
    public var loggingFirstStep = false
    /// Skip steps whose loss is NaN or infinite when averaging logged losses.
    public var loggingNanInfFilter = true
    /// When to save checkpoints.
    public var saveStrategy = IntervalStrategy.steps
    /// Save a checkpoint every this many optimizer steps.
    public var saveSteps = 500
    /// Keep at most this many checkpoints; `null` keeps all.
    public var saveTotalLimit: Int? = nil
    /// Checkpoints hold the trained weights and the training state only, without the optimizer state,
    /// schedule position and generator states, so they are smaller but cannot be resumed (as in
    /// transformers; Fledge refuses to resume from one rather than continue inexactly).
    public var saveOnlyModel = false
    /// When to evaluate.
    public var evalStrategy = IntervalStrategy.no
    /// Evaluate every this many steps; `null` means `logging_steps`.
    public var evalSteps: Int? = nil
    /// No evaluation before this many optimizer steps (`eval_strategy: steps`) or epochs
    /// (`eval_strategy: epoch`) have passed.
    public var evalDelay = 0.0
    /// Evaluate once before the first training step (and before the first step of a resumed run), as a
    /// sanity check; logged at the step training starts from.
    public var evalOnStart = false
    /// Seed for initialisation, shuffling and sampling.
    public var seed = 42
    /// Seed for data order only; `null` means `seed`.
    public var dataSeed: Int? = nil
    /// The order SFT, DPO and KTO visit their rows in (``TrainSamplingStrategy``); GRPO, RLOO and
    /// PPO sample prompts their own way, as in TRL.
    public var trainSamplingStrategy = TrainSamplingStrategy.random
    /// The optimizer.
    public var optim = OptimizerName.adamwTorchFused
    /// Halve the batch on out-of-memory and retry (never with GRPO).
    public var autoFindBatchSize = false
    /// Recompute activations in the backward pass instead of keeping them; Fledge's `auto` (the
    /// default preset's value; `defaults: trl` keeps TRL's `true`) does so only for a pass whose
    /// estimated activations exceed `activation_memory_budget_mb`.
    public var gradientCheckpointing = GradientCheckpointing.enabled
    /// Fledge's own field (not in TRL): with `gradient_checkpointing: auto`, the memory in MiB a
    /// training pass's activations may take before the pass is checkpointed; `null` means half the
    /// memory available (Linux's MemAvailable) when the model is loaded, the other half left to the
    /// model, optimizer state, reference passes and generation.
    public var activationMemoryBudgetMb: Double? = nil
    /// A checkpoint directory to resume from.
    public var resumeFromCheckpoint: String? = nil
    /// Start a fresh run in an `output_dir` that holds an earlier one, deleting the earlier run's
    /// checkpoints, metrics and weights (transformers 4's field; without it such a run is refused).
    public var overwriteOutputDir = false
    /// Longest prompt plus completion, in tokens; `null` means the model's `max_position_embeddings`.
    public var maxSeqLength: Int? = nil
    /// Matrix products in bfloat16 as PyTorch's CPU autocast computes them (``ProductPrecision``):
    /// operands and results of every linear layer and matmul rounded to bfloat16, float32
    /// accumulation; master weights, optimizer state, norms, softmax and the loss stay float32.
    /// `null` (TRL's default, which TRL reads as `true` unless `fp16`) and `false` compute in float32.
    public var bf16: Bool? = nil

    /// transformers' defaults as TRL's `_BaseConfig` sets them.
    public init() {}

    /// `output_dir`, or `trainer_output` when it is not set.
    public var outputDirectory: URL { URL(fileURLWithPath: outputDir ?? "trainer_output") }

    /// The warm-up length in optimizer steps for a run of `totalSteps` steps, read as transformers does:
    /// `warmup_steps` when positive (a fraction of `totalSteps` when below 1), else `warmup_ratio`.
    public func warmupStepCount(totalSteps: Int) -> Int {
        if warmupSteps >= 1 { return Int(warmupSteps) }
        let fraction = warmupSteps > 0 ? warmupSteps : warmupRatio
        return Int((Double(totalSteps) * fraction).rounded(.up))
    }

    /// Unsloth's defaults, shared by every trainer.
    mutating func applyUnslothDefaults() {
        perDeviceTrainBatchSize = 4
        gradientAccumulationSteps = 2
        weightDecay = 0.01
        warmupRatio = 0.1
        seed = 3407
        optim = .adamw8bit
        learningRate = 5e-5
        perDeviceEvalBatchSize = 4
        evalAccumulationSteps = 2
        loggingSteps = 1
        loggingNanInfFilter = false
        maxSeqLength = nil
        autoFindBatchSize = false
        // A departure from both (Unsloth checkpoints every layer, offloading the inputs to host memory):
        // on the CPU the recompute is a whole extra forward pass of arithmetic, so Fledge keeps the
        // activations whenever they fit (docs/training.md, "Gradient checkpointing").
        gradientCheckpointing = .auto
    }

    /// The fields, by TRL name.
    public static var fields: [ConfigField<TrainingArguments>] {
        [
            ConfigField("output_dir", \.outputDir),
            ConfigField("per_device_train_batch_size", \.perDeviceTrainBatchSize, .count),
            ConfigField("per_device_eval_batch_size", \.perDeviceEvalBatchSize, .count),
            ConfigField("gradient_accumulation_steps", \.gradientAccumulationSteps, .count),
            ConfigField("eval_accumulation_steps", \.evalAccumulationSteps, .count),
            ConfigField("learning_rate", \.learningRate,
                        .positive.because("a learning rate of 0 or below does not train")),
            ConfigField("weight_decay", \.weightDecay, .atLeast(0)),
            ConfigField("adam_beta1", \.adamBeta1, .rightOpen(0, 1)),
            ConfigField("adam_beta2", \.adamBeta2, .rightOpen(0, 1)),
            ConfigField("adam_epsilon", \.adamEpsilon,
                        .leftOpen(0, 1).because("AdamW divides by the root of the second moment plus epsilon")),
            ConfigField("max_grad_norm", \.maxGradNorm, .atLeast(0).because("0 turns clipping off")),
            ConfigField("num_train_epochs", \.numTrainEpochs, .leftOpen(0, 1_000_000)),
            ConfigField("max_steps", \.maxSteps,
                        .closed(-1, ConfigRange.stepLimit).because("-1 (or 0) means use num_train_epochs")),
            ConfigField("lr_scheduler_type", \.lrSchedulerType),
            ConfigField("lr_scheduler_kwargs", \.lrSchedulerKwargs),
            ConfigField("warmup_steps", \.warmupSteps,
                        .closed(0, ConfigRange.stepLimit).because("below 1 it is a fraction of all steps")),
            ConfigField("warmup_ratio", \.warmupRatio, .fraction),
            ConfigField("logging_strategy", \.loggingStrategy),
            ConfigField("logging_steps", \.loggingSteps, .steps),
            ConfigField("logging_first_step", \.loggingFirstStep),
            ConfigField("logging_nan_inf_filter", \.loggingNanInfFilter),
            ConfigField("save_strategy", \.saveStrategy),
            ConfigField("save_steps", \.saveSteps, .steps),
            ConfigField("save_only_model", \.saveOnlyModel),
            ConfigField("save_total_limit", \.saveTotalLimit,
                        .closed(0, ConfigRange.stepLimit).because("0 or null keeps every checkpoint")),
            ConfigField("eval_strategy", \.evalStrategy),
            ConfigField("eval_steps", \.evalSteps, .steps),
            ConfigField("eval_delay", \.evalDelay,
                        .closed(0, ConfigRange.stepLimit).because("steps or epochs before the first evaluation")),
            ConfigField("eval_on_start", \.evalOnStart),
            ConfigField("seed", \.seed, .closed(0, ConfigRange.seedLimit)),
            ConfigField("data_seed", \.dataSeed, .closed(0, ConfigRange.seedLimit)),
            ConfigField("train_sampling_strategy", \.trainSamplingStrategy),
            ConfigField("optim", \.optim),
            ConfigField("auto_find_batch_size", \.autoFindBatchSize),
            ConfigField("gradient_checkpointing", \.gradientCheckpointing),
            ConfigField("activation_memory_budget_mb", \.activationMemoryBudgetMb,
                        .leftOpen(0, 1e12).because("MiB of activations a pass may keep under gradient_checkpointing: auto")),
            ConfigField("resume_from_checkpoint", \.resumeFromCheckpoint),
            ConfigField("overwrite_output_dir", \.overwriteOutputDir),
            ConfigField("max_seq_length", \.maxSeqLength, .tokens),
            ConfigField("bf16", \.bf16),
        ]
    }
}

/// `gradient_checkpointing`: TRL's booleans, plus Fledge's `auto`.
public enum GradientCheckpointing: String, ConfigChoice, Sendable {
    /// Every training pass is checkpointed (TRL's `true`, its default).
    case enabled = "true"
    /// No pass is (TRL's `false`).
    case disabled = "false"
    /// A pass is checkpointed only when its estimated activations would not fit
    /// `activation_memory_budget_mb` (Fledge only).
    case auto

    public init(configValue: ConfigValue) throws(ConfigTypeMismatch) {
        switch configValue {
        case .bool(let on): self = on ? .enabled : .disabled
        case .string(let text) where Self(rawValue: text.lowercased()) != nil: self = Self(rawValue: text.lowercased())!
        default: throw ConfigTypeMismatch(expected: "true, false or auto")
        }
    }

    public var configValue: ConfigValue {
        switch self {
        case .enabled: .bool(true)
        case .disabled: .bool(false)
        case .auto: .string(rawValue)
        }
    }
}

extension TrainingArguments {
    /// Whether the run evaluates at all: periodically (`eval_strategy`) or before training (`eval_on_start`).
    public var evaluates: Bool { evalStrategy != .no || evalOnStart }

    /// The precision of the products in the model's passes: bfloat16 with `bf16: true`, else float32.
    public var productPrecision: ProductPrecision { bf16 == true ? .bfloat16 : .float32 }

    /// Whether the model checkpoints at all (`true` or `auto`).
    public var checkpointsGradients: Bool { gradientCheckpointing != .disabled }

    /// The activation budget in bytes above which `gradient_checkpointing: auto` checkpoints a pass
    /// (`activation_memory_budget_mb`, else half the memory available now); nil unless `auto`.
    public var checkpointingMemoryBudget: Int? {
        guard gradientCheckpointing == .auto else { return nil }
        return activationMemoryBudgetMb.map { Int($0 * 1_048_576) } ?? AvailableMemory.bytes() / 2
    }
}

/// Learning-rate schedules Fledge implements (transformers' names); `lr_scheduler_kwargs` gives their
/// arguments. transformers' `reduce_lr_on_plateau` and `greedy`, which follow an evaluation metric, are not.
public enum LRSchedulerType: String, ConfigChoice, Sendable {
    case linear, cosine, constant, polynomial
    case constantWithWarmup = "constant_with_warmup"
    case cosineWithRestarts = "cosine_with_restarts"
    case inverseSqrt = "inverse_sqrt"
    case cosineWithMinLR = "cosine_with_min_lr"
    case cosineWarmupWithMinLR = "cosine_warmup_with_min_lr"
    case warmupStableDecay = "warmup_stable_decay"
}

/// When to save or evaluate (transformers' `IntervalStrategy`).
public enum IntervalStrategy: String, ConfigChoice, Sendable {
    case no, steps, epoch
}

/// Optimizers Fledge implements, under transformers' names; the 8-bit names all mean Fledge's 8-bit AdamW.
public enum OptimizerName: String, ConfigChoice, Sendable {
    case adamwTorch = "adamw_torch"
    case adamwTorchFused = "adamw_torch_fused"
    case adamw8bit = "adamw_8bit"
    case adamwBnb8bit = "adamw_bnb_8bit"
    case pagedAdamw8bit = "paged_adamw_8bit"
    case sgd
}
