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
        "fp16": Entry(
            defaultValue: .bool(false),
            feature: "float16 mixed precision on the CPU, which has no float16 arithmetic to gain from (PyTorch's CPU "
                + "autocast computes in bfloat16; set bf16: true for that)"),
        "neftune_noise_alpha": Entry(defaultValue: .null, feature: "NEFTune embedding noise outside SFT"),
        "label_smoothing_factor": Entry(defaultValue: .double(0.0), feature: "label smoothing outside SFT"),
        "lora_target_parameters": Entry(defaultValue: .null, feature: "LoRA on parameters"),
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
