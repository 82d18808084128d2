import FledgeLM

extension GenerationArguments {
    /// Applies `generation_kwargs` to `sampling` as TRL applies them: its dictionary updates the
    /// `GenerationConfig` built from the sampling fields, so a key given here wins over its field.
    ///
    /// Honoured: `temperature`, `top_p`, `top_k`, `min_p`, `repetition_penalty`, `suppress_tokens`
    /// (checked against `vocabularySize` when given). Accepted where they ask for what Fledge does
    /// anyway: `do_sample: true`, `num_beams: 1`, `num_return_sequences: 1`, `max_new_tokens` equal to
    /// `max_completion_length`, `use_cache`, `cache_implementation` (how the cache is laid out, which
    /// changes no result). Every other key is refused by name, with the reason where one is known.
    public func applyGenerationKeywordArguments(
        to sampling: inout SamplingOptions, vocabularySize: Int? = nil
    ) throws(KeywordArgumentsError) {
        var reader = KeywordArgumentReader(field: "generation_kwargs", arguments: generationKwargs)
        if let temperature = try reader.number("temperature") {
            guard temperature > 0 else { throw reader.error("temperature", "must be positive, not \(temperature)") }
            sampling.temperature = Float(temperature)
        }
        if let topP = try reader.number("top_p") {
            guard topP > 0 && topP <= 1 else { throw reader.error("top_p", "must be in (0, 1], not \(topP)") }
            sampling.topP = Float(topP)
        }
        if reader.isGiven("top_k") {  // null turns top-k off, as GenerationConfig's None does
            let topK = try reader.integer("top_k") ?? 0
            guard topK >= 0 else { throw reader.error("top_k", "must be 0 or more (0 keeps every token), not \(topK)") }
            sampling.topK = topK
        }
        if reader.isGiven("min_p") {
            let minP = try reader.number("min_p") ?? 0
            guard minP >= 0 && minP <= 1 else { throw reader.error("min_p", "must be in [0, 1], not \(minP)") }
            sampling.minP = Float(minP)
        }
        if let penalty = try reader.number("repetition_penalty") {
            guard penalty > 0 else { throw reader.error("repetition_penalty", "must be positive (1 turns it off), not \(penalty)") }
            sampling.repetitionPenalty = Float(penalty)
        }
        if let suppressed = try reader.integers("suppress_tokens") {
            if let bad = suppressed.first(where: { $0 < 0 || $0 >= (vocabularySize ?? Int.max) }) {
                throw reader.error("suppress_tokens", "holds \(bad), which is not a token id of the model (0..<\(vocabularySize ?? 0))")
            }
            sampling.suppressedTokenIds = suppressed
        }
        if try reader.boolean("do_sample") == false {
            throw reader.error("do_sample", "is false, but the completions of a group must be sampled: greedy decoding "
                + "makes them all the same, so every advantage is 0; remove it")
        }
        for name in ["num_beams", "num_return_sequences"] {
            if let count = try reader.integer(name), count != 1 {
                throw reader.error(name, "is \(count), but Fledge samples each completion on its own, one token at a time "
                    + "(num_generations sets the completions per prompt); remove it")
            }
        }
        if let length = try reader.integer("max_new_tokens"), length != maxCompletionLength {
            throw reader.error("max_new_tokens", "is \(length); set max_completion_length instead, which the losses' masks "
                + "and the length metrics also use")
        }
        _ = try reader.boolean("use_cache")
        _ = reader.take("cache_implementation")
        if reader.take("eos_token_id") != nil {
            throw reader.error("eos_token_id", "is not taken: TRL stops generation at it but masks completions at the "
                + "tokenizer's and generation_config.json's end ids, so the two would disagree; set eos_token_id in the "
                + "model's generation_config.json instead")
        }
        try reader.refuseUnread(of: "Fledge's sampler")
    }
}
