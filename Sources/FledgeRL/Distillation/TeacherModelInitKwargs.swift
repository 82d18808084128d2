extension DistillationConfig {
    /// `teacher_model_init_kwargs` read as TRL 1.16 passes them to `from_pretrained` for the teacher
    /// (`create_model_from_path`), returning the teacher's revision: its `revision`, which TRL prefers to
    /// `teacher_model_revision` (`setdefault`), else `teacher_model_revision`.
    ///
    /// Honoured: `revision`. Accepted where they ask for what Fledge does: `dtype` / `torch_dtype` `auto`
    /// (TRL's default: transformers 5 loads the checkpoint's dtype, as with no `dtype`) or `float32` (what
    /// Fledge computes in); `device_map` `auto` or `cpu` (every layer on the CPU); `attn_implementation`
    /// `eager` or `sdpa` (the same attention); `trust_remote_code` and `low_cpu_mem_usage` (no effect on a
    /// supported family; transformers 5 ignores the latter). Refused by name, with the reason: `bfloat16` and
    /// `float16` (TRL would hold the teacher's weights and run its forward in that precision, which Fledge's
    /// float32 teacher is not, and `bf16: true` autocasts matrix products instead), `quantization_config`
    /// (Fledge quantizes the teacher with `load_in_4bit` / `load_in_8bit`), and every other key.
    public func teacherRevision() throws(KeywordArgumentsError) -> String? {
        var reader = KeywordArgumentReader(field: "teacher_model_init_kwargs", arguments: teacherModelInitKwargs)
        for name in ["dtype", "torch_dtype"] {
            guard let value = reader.take(name) else { continue }
            switch value {
            case .string("auto"), .string("float32"):
                break
            case .string(let precision) where ["bfloat16", "float16", "half"].contains(precision):
                throw reader.error(name, "is \(precision): TRL would load the teacher's weights in \(precision) and run its "
                    + "forward in it, while Fledge runs the teacher in float32 (bf16: true autocasts matrix products, which is "
                    + "not the same); remove it or use float32")
            default:
                throw reader.error(name, "is \(value), not a dtype transformers loads ('auto', 'float32', 'bfloat16', 'float16')")
            }
        }
        var revision = teacherModelRevision
        if let value = reader.take("revision") {
            guard case .string(let text) = value, !text.isEmpty else {
                throw reader.error("revision", "must be a branch, tag or commit, not \(value)")
            }
            revision = text
        }
        if let value = reader.take("device_map"), value != .string("auto"), value != .string("cpu") {
            throw reader.error("device_map", "is \(value): Fledge runs the teacher on the CPU, which only 'auto' or 'cpu' ask "
                + "for here; remove it")
        }
        if let value = reader.take("attn_implementation"), value != .string("eager"), value != .string("sdpa") {
            throw reader.error("attn_implementation", "is \(value): Fledge computes attention as 'eager' and 'sdpa' do, "
                + "and TRL runs no other kernel on a CPU; remove it")
        }
        _ = try reader.boolean("trust_remote_code")
        _ = try reader.boolean("low_cpu_mem_usage")
        if reader.take("quantization_config") != nil {
            throw reader.error("quantization_config", "is not read: Fledge quantizes the teacher's linear weights as they load "
                + "with load_in_4bit or load_in_8bit, like the student's base; set one of those instead")
        }
        try reader.refuseUnread(of: "Fledge's teacher loading")
        return revision
    }
}
