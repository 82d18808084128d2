/// Sampling and batching fields that GRPO and RLOO share (TRL declares them in both configs).
public struct GenerationArguments: ConfigFieldTable, Equatable, Sendable {
    /// Completions per prompt (the group size G).
    public var numGenerations = 8
    /// Completions per prompt during evaluation; `null` means `num_generations`.
    public var numGenerationsEval: Int? = nil
    /// Longest completion, in tokens.
    public var maxCompletionLength = 512
    /// Sampling temperature; also divides the logits when log-probabilities are computed.
    public var temperature = 1.0
    /// Nucleus sampling: keep the smallest set of tokens with this much probability.
    public var topP = 1.0
    /// Keep the k most likely tokens; 0 or `null` disables it.
    public var topK: Int? = 0
    /// Drop tokens less likely than this fraction of the most likely one; `null` disables it.
    public var minP: Double? = nil
    /// Divides the logits of tokens already generated (1 disables it).
    public var repetitionPenalty = 1.0
    /// Completions per generation round, across processes; exclusive with `steps_per_generation`.
    public var generationBatchSize: Int? = nil
    /// Micro-steps served by one generation round; `null` means `gradient_accumulation_steps`.
    public var stepsPerGeneration: Int? = nil
    /// KL coefficient against the reference policy (0 loads no reference).
    public var beta = 0.0
    /// Optimisation passes per generation round (μ).
    public var numIterations = 1
    /// Lower clip range ε.
    public var epsilon = 0.2
    /// Upper clip range; `null` means `epsilon`.
    public var epsilonHigh: Double? = nil
    /// Weight of each reward function; `null` means 1 each.
    public var rewardWeights: [Double]? = nil
    /// Leave truncated completions out of the loss.
    public var maskTruncatedCompletions = false
    /// Shuffle prompts each epoch.
    public var shuffleDataset = true
    /// Arguments for the sampler on top of the fields above, as TRL passes them to transformers'
    /// `GenerationConfig` (`temperature`, `top_p`, `top_k`, `min_p`, `repetition_penalty`,
    /// `suppress_tokens` …); they change the sampling only — log-probabilities keep `temperature`.
    /// Keys the sampler cannot honour (beam search, `eos_token_id` …) are refused by name.
    public var generationKwargs: KeywordArguments? = nil
    /// Variables for the chat template wherever TRL renders one with it: the prompts, and the texts a
    /// reward model scores (e.g. `{enable_thinking: false}` for Qwen3).
    public var chatTemplateKwargs: KeywordArguments? = nil
    /// At each logging step, write the latest generation round's completions (prompt, completion,
    /// each reward, advantage, length, clipped) to `completions.jsonl` in the output directory and
    /// show them on a terminal (TRL logs them to its trackers and as parquet files).
    public var logCompletions = false
    /// How many logged completions a terminal shows; `null` shows all.
    public var numCompletionsToPrint: Int? = nil
    /// Fledge's own field (not in TRL, whose issue #3708 asks for it): DAPO's dynamic sampling —
    /// drop groups whose completions all have advantage 0 (equal rewards) and sample further
    /// prompts until the round is full, at most `dynamic_sampling_max_batches` generation batches
    /// per round; `dynamic_sampling/*` metrics log what was dropped. One process only.
    public var dynamicSampling = false
    /// Fledge's own field: the most generation batches one round may take under `dynamic_sampling`
    /// (the first included); a round still short is filled with dropped groups.
    public var dynamicSamplingMaxBatches = 3
    /// Fledge's own field (not in TRL): which completions the training forward and backward leave
    /// out because they cannot change the update — `exact` skips only where the update stays
    /// exactly the same (zero-advantage rows with no KL or entropy-mask term, rows out of the loss;
    /// nothing while LoRA dropout is on), `always` also skips GRPO's zero-advantage rows when `beta`
    /// ≠ 0 and under LoRA dropout (a departure from TRL: their KL term is dropped, the other rows
    /// draw different dropout masks), `never` runs every row as TRL does. Skipped rows count in every loss
    /// normaliser; `frac_skipped_rows` logs the share skipped.
    public var skipZeroSignalRows = ZeroSignalRowSkipping.exact
    /// Fledge's own field (not in TRL): the training forward and backward run each prompt once for
    /// the completions of it in a micro-batch, which attend to one copy of its keys and values
    /// (Prefix Grouper); the prompt's gradient is the sum over them, so the update is the same
    /// within float rounding. Where the order of a round's rows cannot change the update (whole
    /// rounds per optimizer step, not `bnpo` nor `top_entropy_quantile` < 1), micro-batches take them
    /// grouped by prompt rather than in TRL's shuffled order, so that each prompt runs once per
    /// micro-batch. Nothing is shared or grouped while LoRA dropout is on (`lora_dropout` > 0: each
    /// copy of a prompt draws its own masks). `false` runs every completion with its own copy of the
    /// prompt, in TRL's order. Nothing is shared under `neftune_noise_alpha` either (each copy of a prompt
    /// has its own noise).
    public var sharePromptInTraining = true
    /// NEFTune, as transformers' `Trainer.train` hooks it onto the trained model's input embeddings:
    /// uniform noise in ±α/√(L·d) on every forward of that model in training mode — sampling (the
    /// prefill, `L` the longest prompt of the generation batch, and each decoding step, `L` = 1), the
    /// old log-probs, the reference log-probs with LoRA (adapters off on the same model) and the loss
    /// (`L` the generation batch's longest prompt plus its longest completion, as TRL pads them); not a
    /// separate reference model nor evaluation. Departure: drawn from Fledge's seeded generator.
    public var neftuneNoiseAlpha: Double? = nil

    /// TRL's GRPO defaults.
    public init() {}

    /// The fields, by TRL name.
    public static var fields: [ConfigField<GenerationArguments>] {
        [
            ConfigField("num_generations", \.numGenerations,
                        .closed(2, ConfigRange.countLimit).because("advantages compare completions within a group")),
            ConfigField("num_generations_eval", \.numGenerationsEval, .count),
            ConfigField("max_completion_length", \.maxCompletionLength, .tokens),
            ConfigField("temperature", \.temperature, .samplingTemperature),
            ConfigField("top_p", \.topP, .leftOpen(0, 1).because("1 keeps every token")),
            ConfigField("top_k", \.topK, .closed(0, ConfigRange.tokenLimit).because("0 keeps every token")),
            ConfigField("min_p", \.minP, .fraction),
            ConfigField("repetition_penalty", \.repetitionPenalty,
                        .positive.because("the logits of tokens already generated are divided by it, so 1 turns it off")),
            ConfigField("generation_batch_size", \.generationBatchSize, .count),
            ConfigField("steps_per_generation", \.stepsPerGeneration, .count),
            ConfigField("beta", \.beta, .atLeast(0).because("0 turns the KL term off")),
            ConfigField("num_iterations", \.numIterations, .count),
            ConfigField("epsilon", \.epsilon,
                        .fraction.because("the ratio is clipped to [1 - epsilon, 1 + epsilon_high]")),
            ConfigField("epsilon_high", \.epsilonHigh, .atLeast(0)),
            ConfigField("reward_weights", \.rewardWeights, .ordinaryMagnitude),
            ConfigField("mask_truncated_completions", \.maskTruncatedCompletions),
            ConfigField("shuffle_dataset", \.shuffleDataset),
            ConfigField("generation_kwargs", \.generationKwargs),
            ConfigField("chat_template_kwargs", \.chatTemplateKwargs),
            ConfigField("log_completions", \.logCompletions),
            ConfigField("num_completions_to_print", \.numCompletionsToPrint, .count),
            ConfigField("dynamic_sampling", \.dynamicSampling),
            ConfigField("dynamic_sampling_max_batches", \.dynamicSamplingMaxBatches, .count),
            ConfigField("skip_zero_signal_rows", \.skipZeroSignalRows),
            ConfigField("share_prompt_in_training", \.sharePromptInTraining),
            ConfigField("neftune_noise_alpha", \.neftuneNoiseAlpha, .closed(0, ConfigRange.magnitudeLimit)),
        ]
    }
}
