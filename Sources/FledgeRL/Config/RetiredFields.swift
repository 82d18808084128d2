/// Fields TRL (or transformers) has removed, with what replaced them. Those whose loss would change
/// the objective are errors; the harmless ones are ignored with a warning.
enum RetiredFields {
    struct Entry {
        /// Whether the field can be dropped without changing what is trained.
        let harmless: Bool
        let advice: String
    }

    /// The entry for a field name, if TRL retired it.
    static func entry(for name: String) -> Entry? { entries[name] }

    private static let entries: [String: Entry] = [
        "max_prompt_length": Entry(
            harmless: true,
            advice: "removed in TRL 0.28: prompts are no longer truncated; filter long prompts out of the dataset"),
        "max_completion_length": Entry(
            harmless: false, advice: "removed from DPOConfig in TRL 0.29: use max_length (prompt plus completion)"),
        "reference_free": Entry(
            harmless: false, advice: "removed from DPOConfig in TRL 0.29: reference-free losses live in TRL's CPOTrainer"),
        "rpo_alpha": Entry(
            harmless: false,
            advice: "removed in TRL 0.29: add sft to loss_type with its weight, e.g. loss_type: [sigmoid, sft], "
                + "loss_weights: [1.0, ALPHA]"),
        "use_logits_to_keep": Entry(harmless: true, advice: "removed in TRL 0.29: it is always on"),
        "padding_value": Entry(harmless: true, advice: "removed in TRL 0.29: the tokenizer's pad token is used"),
        "label_pad_token_id": Entry(harmless: true, advice: "removed in TRL 0.29: completion masks replace it"),
        "ref_model_init_kwargs": Entry(
            harmless: true, advice: "removed in TRL 0.29: the reference is the base model with adapters off"),
        "force_use_ref_model": Entry(
            harmless: true, advice: "removed in TRL 0.29: the reference is the base model with adapters off"),
        "generate_during_eval": Entry(harmless: true, advice: "removed in TRL 0.29"),
        "base_model_attribute_name": Entry(harmless: true, advice: "removed in TRL 0.29"),
        "tools": Entry(harmless: false, advice: "removed from DPOConfig in TRL 0.29: tool calling is not supported"),
        "use_liger_loss": Entry(harmless: true, advice: "renamed use_liger_kernel, which does not apply to Fledge"),
        "vllm_guided_decoding_regex": Entry(
            harmless: false, advice: "renamed vllm_structured_outputs_regex; Fledge has no vLLM or guided decoding"),
        "wandb_log_unique_prompts": Entry(
            harmless: true, advice: "renamed log_unique_prompts, which does not apply to Fledge"),
        "evaluation_strategy": Entry(harmless: false, advice: "renamed eval_strategy in transformers 4.46"),
        "rloo_k": Entry(harmless: false, advice: "RLOO was rewritten in TRL 0.22: use num_generations"),
        "token_level_kl": Entry(harmless: false, advice: "RLOO was rewritten in TRL 0.22: the KL term is per sequence"),
        "kl_coef": Entry(harmless: false, advice: "RLOO was rewritten in TRL 0.22: use beta"),
        "cliprange": Entry(harmless: false, advice: "RLOO was rewritten in TRL 0.22: use epsilon"),
        "num_ppo_epochs": Entry(harmless: false, advice: "RLOO was rewritten in TRL 0.22: use num_iterations"),
        "ppo_epochs": Entry(harmless: false, advice: "from TRL's old PPOTrainer (≤0.11): use num_ppo_epochs"),
        "init_kl_coef": Entry(harmless: false, advice: "from TRL's old PPOTrainer (≤0.11): use kl_coef"),
        "adap_kl_ctrl": Entry(
            harmless: false, advice: "from TRL's old PPOTrainer (≤0.11): the adaptive KL controller was removed"),
    ]
}
