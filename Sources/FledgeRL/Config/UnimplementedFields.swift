/// TRL fields for features Fledge does not implement, each with the reason it stays so. At TRL's default
/// they are accepted with a note; any other value is an error, because ignoring it would silently train
/// something else.
enum UnimplementedFields {
    struct Entry {
        let defaultValue: ConfigValue
        let feature: String
        /// Why Fledge does not implement it: what the field means in TRL that has no counterpart here.
        let reason: String
    }

    /// The entry for a field name, if Fledge does not implement it.
    static func entry(for name: String) -> Entry? { entries[name] }

    private static let namedAdapters = "they name adapters of a PEFT model built in Python (load_adapter(path, "
        + "adapter_name=…)) and handed to PPOTrainer: TRL's set_adapter fails on a ref_adapter_name such a model "
        + "lacks, and without one model_adapter_name is never read; a config file's LoRA run has the one adapter"

    private static let entries: [String: Entry] = [
        "fp16": Entry(
            defaultValue: .bool(false), feature: "float16 mixed precision on the CPU",
            reason: "it has no float16 arithmetic to gain from (PyTorch's CPU autocast computes in bfloat16); "
                + "set bf16: true for mixed precision"),
        "model_adapter_name": Entry(defaultValue: .null, feature: "multiple named adapters", reason: namedAdapters),
        "ref_adapter_name": Entry(defaultValue: .null, feature: "multiple named adapters", reason: namedAdapters),
    ]
}
