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
        "use_adaptive_entropy": Entry(defaultValue: .bool(false), feature: "adaptive entropy control"),
        "entropy_coef_min": Entry(defaultValue: .double(0.0), feature: "adaptive entropy control"),
        "entropy_coef_max": Entry(defaultValue: .double(1.0), feature: "adaptive entropy control"),
        "entropy_coef_delta": Entry(defaultValue: .double(0.005), feature: "adaptive entropy control"),
        "entropy_target": Entry(defaultValue: .double(0.2), feature: "adaptive entropy control"),
        "sync_ref_model": Entry(defaultValue: .bool(false), feature: "reference-model syncing (TR-DPO)"),
        "ref_model_mixup_alpha": Entry(defaultValue: .double(0.6), feature: "reference-model syncing (TR-DPO)"),
        "ref_model_sync_steps": Entry(defaultValue: .int(512), feature: "reference-model syncing (TR-DPO)"),
        "neftune_noise_alpha": Entry(defaultValue: .null, feature: "NEFTune embedding noise outside SFT"),
        "label_smoothing_factor": Entry(defaultValue: .double(0.0), feature: "label smoothing outside SFT"),
        "use_dora": Entry(defaultValue: .bool(false), feature: "DoRA adapters"),
        "lora_modules_to_save": Entry(defaultValue: .null, feature: "fully trained extra modules"),
        "lora_target_parameters": Entry(defaultValue: .null, feature: "LoRA on parameters"),
        "generation_kwargs": Entry(defaultValue: .null, feature: "extra generation arguments"),
        "logging_strategy": Entry(defaultValue: .string("steps"), feature: "logging per epoch"),
        "eval_delay": Entry(defaultValue: .int(0), feature: "delayed evaluation"),
        "eval_on_start": Entry(defaultValue: .bool(false), feature: "evaluation before training"),
        "train_sampling_strategy": Entry(defaultValue: .string("random"), feature: "other sampling orders"),
        "model_adapter_name": Entry(defaultValue: .null, feature: "multiple named adapters"),
        "ref_adapter_name": Entry(defaultValue: .null, feature: "multiple named adapters"),
        "reward_model_name_or_path": Entry(
            defaultValue: .null, feature: "reward models (use reward_funcs or reward_command)"),
        "sft_model_path": Entry(
            defaultValue: .string("EleutherAI/pythia-160m"), feature: "a separate SFT model (use model_name_or_path)"),
    ]
}
