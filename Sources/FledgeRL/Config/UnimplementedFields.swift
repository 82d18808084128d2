/// TRL fields for features Fledge does not implement. At TRL's default they are accepted with a note;
/// any other value is an error, because ignoring it would silently train something else.
enum UnimplementedFields {
    struct Entry {
        let defaultValue: ConfigValue
        let feature: String
    }

    /// The entry for a field name, if Fledge does not implement it.
    static func entry(for name: String) -> Entry? { entries[name] }

    private static let entries: [String: Entry] = [
        "sync_ref_model": Entry(defaultValue: .bool(false), feature: "reference-model syncing (TR-DPO)"),
        "ref_model_mixup_alpha": Entry(defaultValue: .double(0.6), feature: "reference-model syncing (TR-DPO)"),
        "ref_model_sync_steps": Entry(defaultValue: .int(512), feature: "reference-model syncing (TR-DPO)"),
        "neftune_noise_alpha": Entry(defaultValue: .null, feature: "NEFTune embedding noise"),
        "label_smoothing_factor": Entry(defaultValue: .double(0.0), feature: "label smoothing of the LM loss"),
        "packing": Entry(defaultValue: .bool(false), feature: "packing of examples"),
        "packing_strategy": Entry(defaultValue: .string("bfd"), feature: "packing of examples"),
        "eval_packing": Entry(defaultValue: .null, feature: "packing of examples"),
        "loss_type": Entry(defaultValue: .string("nll"), feature: "SFT losses other than nll"),
        "lora_modules_to_save": Entry(defaultValue: .null, feature: "fully trained extra modules"),
        "lora_target_parameters": Entry(defaultValue: .null, feature: "LoRA on parameters"),
        "train_sampling_strategy": Entry(defaultValue: .string("random"), feature: "other sampling orders"),
        "model_adapter_name": Entry(defaultValue: .null, feature: "multiple named adapters"),
        "ref_adapter_name": Entry(defaultValue: .null, feature: "multiple named adapters"),
        "reward_model_name_or_path": Entry(
            defaultValue: .null, feature: "reward models (use reward_funcs or reward_command)"),
        "sft_model_path": Entry(
            defaultValue: .string("EleutherAI/pythia-160m"), feature: "a separate SFT model (use model_name_or_path)"),
        // DistillationConfig's.
        "teacher_model_revision": Entry(defaultValue: .null, feature: "a teacher revision (give the teacher's path or Hub id)"),
        "teacher_model_init_kwargs": Entry(
            defaultValue: .null, feature: "teacher loading arguments (load_in_4bit/load_in_8bit quantize the teacher too)"),
        "max_tool_calling_iterations": Entry(defaultValue: .null, feature: "tool calling during distillation"),
        "log_completions": Entry(defaultValue: .bool(false), feature: "a completion log for distillation"),
        "num_completions_to_print": Entry(defaultValue: .null, feature: "a completion log for distillation"),
    ]
}
