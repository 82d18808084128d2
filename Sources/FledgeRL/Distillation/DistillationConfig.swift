/// TRL's `DistillationConfig`: on-policy knowledge distillation. The student samples completions of
/// the prompts itself and is trained to match a frozen teacher's next-token distributions on them
/// under the generalized Jensen–Shannon divergence (``GeneralizedJSD``).
///
/// TRL 1.16's `DistillationTrainer` is purely on-policy: it has no `lmbda` (the experimental GKD
/// trainer's share of student samples against dataset completions) and no `seq_kd`, so neither has
/// Fledge. Its vLLM, DeepSpeed, dropout and padding fields are accepted and noted as not applicable.
///
/// With `tools` (TRL's `DistillationTrainer(tools=…)`, named in the config as GRPO names them) the student's
/// samples are multi-turn episodes (``AgentRollouts``), at most `max_tool_calling_iterations` turns of them
/// answered; the teacher scores the whole episodes and the tool results are out of the loss (TRL's `tool_mask`).
public struct DistillationConfig: TrainerConfig {
    public static let trainer = TrainerKind.distill

    public var run = RunArguments()
    public var training = TrainingArguments()
    /// The teacher: a local Hugging Face model directory, a `.gguf` file or a Hub id, with the
    /// student's vocabulary (it may be larger). It is frozen; with `load_in_4bit` / `load_in_8bit`
    /// its linear weights are quantized as they load, like the student's base (a Fledge departure:
    /// TRL quantizes it through `teacher_model_init_kwargs`'s `quantization_config`).
    public var teacherModelNameOrPath: String? = nil
    /// The branch, tag or commit of a Hub id `teacher_model_name_or_path` (as `model_revision` is the
    /// student's); `null` takes `main`, or the `@revision` the id carries.
    public var teacherModelRevision: String? = nil
    /// TRL's `from_pretrained` arguments for the teacher, as far as they mean something here:
    /// `revision` (preferred to `teacher_model_revision`, as TRL prefers it), and
    /// `dtype` `auto`/`float32`, `device_map` `auto`/`cpu`, `attn_implementation` `eager`/`sdpa`,
    /// `trust_remote_code` and `low_cpu_mem_usage`, which ask for what Fledge does; any other key or value
    /// (`bfloat16`, `quantization_config` …) is refused by name with the reason.
    public var teacherModelInitKwargs: KeywordArguments? = nil
    /// Interpolation of the divergence: 0 is the forward KL(teacher ‖ student), 1 the reverse
    /// KL(student ‖ teacher), in between the generalized JSD with mixture (1 − beta)·student +
    /// beta·teacher (0.5 is the JSD). Not GRPO's KL coefficient: there is no reference model.
    public var beta = 1.0
    /// Sampling temperature of the student's completions; both models' logits are divided by it
    /// before the divergence.
    public var temperature = 1.0
    /// Nucleus sampling of the student's completions: keep the smallest set of tokens with this much probability.
    public var topP = 1.0
    /// Keep the k most likely tokens when sampling; 0 keeps every token.
    public var topK = 0
    /// Drop tokens less likely than this fraction of the most likely one when sampling; `null` disables it.
    public var minP: Double? = nil
    /// Divides the logits of tokens already generated when sampling (1 disables it).
    public var repetitionPenalty = 1.0
    /// Longest completion the student samples, in tokens.
    public var maxCompletionLength = 512
    /// Shuffle prompts each epoch.
    public var shuffleDataset = true
    /// Arguments for the sampler on top of the fields above, as TRL passes them to transformers'
    /// `GenerationConfig` (`temperature`, `top_p`, `top_k`, `min_p`, `repetition_penalty`,
    /// `suppress_tokens` …); they change the sampling only — the divergence keeps `temperature`.
    public var generationKwargs: KeywordArguments? = nil
    /// Variables for the chat template that renders conversational prompts (e.g. `{enable_thinking: false}`).
    public var chatTemplateKwargs: KeywordArguments? = nil
    /// At each logging step, write the student's completions of the latest generation batch (prompt,
    /// completion, length, clipped) to `completions.jsonl` in the output directory and show them on a
    /// terminal (TRL prints them with rich and writes parquet files and tracker tables).
    public var logCompletions = false
    /// How many logged completions a terminal shows; `null` shows all.
    public var numCompletionsToPrint: Int? = nil
    /// NEFTune, as transformers' `Trainer.train` hooks it onto the student's input embeddings: uniform
    /// noise in ±α/√(L·d) on every forward of the student in training mode — its sampling (the prefill,
    /// `L` the longest prompt of the generation batch, and each decoding step, `L` = 1) and its loss pass
    /// (`L` the batch's longest prompt plus its longest completion, as TRL pads them); never the teacher
    /// (another model, in eval mode) nor evaluation. Departure: drawn from Fledge's seeded generator.
    public var neftuneNoiseAlpha: Double? = nil
    /// The tools of the student's episodes (`tools`, `max_tool_calling_iterations`, `environment_command_timeout`):
    /// TRL's `tools` argument, as GRPO's config names it. `environment_command` is refused: TRL's
    /// `DistillationTrainer` takes no environment, and distillation has no rewards for one's.
    public var agent = ToolArguments()

    /// TRL's current defaults.
    public init() {
        training.learningRate = 1e-6
    }

    /// Unsloth's shared defaults (Unsloth adds nothing distillation-specific).
    public mutating func applyUnslothDefaults() {
        training.applyUnslothDefaults()
    }

    public static var fields: [ConfigField<DistillationConfig>] {
        sharedFields(\.run, \.training) + [
            ConfigField("teacher_model_name_or_path", \.teacherModelNameOrPath),
            ConfigField("teacher_model_revision", \.teacherModelRevision),
            ConfigField("teacher_model_init_kwargs", \.teacherModelInitKwargs),
            ConfigField("beta", \.beta, .fraction.because("0 is the forward KL, 1 the reverse KL")),
            ConfigField("temperature", \.temperature, .samplingTemperature),
            ConfigField("top_p", \.topP, .leftOpen(0, 1).because("1 keeps every token")),
            ConfigField("top_k", \.topK, .closed(0, ConfigRange.tokenLimit).because("0 keeps every token")),
            ConfigField("min_p", \.minP, .fraction),
            ConfigField("repetition_penalty", \.repetitionPenalty,
                        .positive.because("the logits of tokens already generated are divided by it, so 1 turns it off")),
            ConfigField("max_completion_length", \.maxCompletionLength, .tokens),
            ConfigField("shuffle_dataset", \.shuffleDataset),
            ConfigField("generation_kwargs", \.generationKwargs),
            ConfigField("chat_template_kwargs", \.chatTemplateKwargs),
            ConfigField("log_completions", \.logCompletions),
            ConfigField("num_completions_to_print", \.numCompletionsToPrint, .count),
            ConfigField("neftune_noise_alpha", \.neftuneNoiseAlpha, .closed(0, ConfigRange.magnitudeLimit)),
        ] + ToolArguments.fields.lifted(through: \.agent)
    }

    public static var checks: [ConfigCheck<DistillationConfig>] {
        [.completionLeavesRoomForPrompt(\.maxCompletionLength), .teacherModelInitKwargs, .toolsWithoutEnvironment]
    }
}

extension ConfigCheck where Config == DistillationConfig {
    /// `teacher_model_init_kwargs` must be arguments Fledge's teacher loading honours (``DistillationConfig/teacherRevision()``).
    static var teacherModelInitKwargs: ConfigCheck {
        ConfigCheck { resolution in
            do throws(KeywordArgumentsError) {
                _ = try resolution.config.teacherRevision()
            } catch {
                resolution.fail(\.teacherModelInitKwargs, error.description)
            }
        }
    }
}

extension ConfigCheck where Config == DistillationConfig {
    /// The student's episodes take `tools` only: `environment_command` has no counterpart in TRL's
    /// `DistillationTrainer` (and distillation no use for an environment's rewards), and `max_tool_calling_iterations`
    /// bounds tool-calling turns, so without tools it would be set to no effect (TRL ignores it; Fledge refuses it).
    static var toolsWithoutEnvironment: ConfigCheck {
        ConfigCheck { resolution in
            let agent = resolution.config.agent
            if agent.environmentCommand != nil {
                resolution.fail(\.agent.environmentCommand, "TRL's DistillationTrainer takes tools but no environment, and "
                    + "distillation has no rewards for one; serve the tools with tools: [\"command:…\"] and remove "
                    + "environment_command")
            }
            if agent.maxToolCallingIterations != nil && (agent.tools ?? []).isEmpty {
                resolution.fail(\.agent.maxToolCallingIterations, "bounds the turns whose tool calls are answered, but no "
                    + "tools are configured; name the student's tools (tools: [calculator] or [\"command:…\"]) or remove "
                    + "max_tool_calling_iterations")
            }
        }
    }
}
