import Foundation

/// `adapter_config.json` as PEFT writes and reads it for a LoRA adapter.
enum PEFTAdapterConfig {
    static let fileName = "adapter_config.json"

    /// The config of adapters made with `options`, with PEFT's field names, sorted and indented
    /// as PEFT's `save_pretrained` writes them, `all-linear` written out as the short names of the
    /// model's projections (`adaptable`), `target_parameters` as given (null when none), and `modules_to_save`
    /// as given (nil: none). Fields that change
    /// nothing for a plain LoRA adapter are written with PEFT's defaults.
    static func json(_ options: LoRAOptions, adaptable: [String], baseModel: String?, taskType: String,
                     modulesToSave: [String]? = nil) -> String {
        let alpha: JSONValue = options.alpha == options.alpha.rounded() && abs(options.alpha) < 1e15
            ? .int(Int(options.alpha)) : .double(options.alpha)
        let object = JSONObject([
            ("alpha_pattern", .object(JSONObject())), ("auto_mapping", .null),
            ("base_model_name_or_path", baseModel.map(JSONValue.string) ?? .null), ("bias", .string("none")),
            ("exclude_modules", .null), ("fan_in_fan_out", .bool(false)), ("inference_mode", .bool(true)),
            ("init_lora_weights", .bool(true)), ("layer_replication", .null), ("layers_pattern", .null),
            ("layers_to_transform", .null), ("loftq_config", .object(JSONObject())), ("lora_alpha", alpha),
            ("lora_bias", .bool(false)), ("lora_dropout", .double(options.dropout)), ("megatron_config", .null),
            ("megatron_core", .string("megatron.core")),
            ("modules_to_save", modulesToSave.map { .array($0.map(JSONValue.string)) } ?? .null), ("peft_type", .string("LORA")),
            ("r", .int(options.r)), ("rank_pattern", .object(JSONObject())), ("revision", .null),
            ("target_modules", .array(options.expandedTargets(adaptable: adaptable).map(JSONValue.string))),
            ("target_parameters", options.targetParameters.isEmpty ? .null : .array(options.targetParameters.map(JSONValue.string))),
            ("task_type", .string(taskType)),
            ("use_dora", .bool(options.useDoRA)), ("use_rslora", .bool(options.useRSLoRA)),
        ])
        return JSONWriter(indent: 2, sortKeys: true).string(.object(object))
    }

    /// The LoRA options of the adapter_config.json at `path`; throws naming the field when it is
    /// missing, malformed, or asks for something Fledge does not implement (per-module ranks,
    /// trained biases, regular-expression targets), and its `modules_to_save` (empty when unset):
    /// whole modules trained beside the adapters (`lm_head`, `embed_tokens`; PEFT's `SEQ_CLS` task
    /// lists `classifier`, `score` and `pre_classifier`), checked against the model when loaded.
    static func read(_ path: String) throws -> (options: LoRAOptions, modulesToSave: [String]) {
        guard FileManager.default.fileExists(atPath: path) else {
            throw AdapterError.missingFile(
                path: path, hint: "a PEFT adapter directory holds adapter_config.json and adapter_model.safetensors, "
                    + "as PEFT's save_pretrained and Fledge's saveAdapter write them")
        }
        let root: JSONValue
        do {
            root = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        } catch {
            throw AdapterError.invalidConfig(file: path, field: "(file)", problem: "is not valid JSON (\(error))")
        }
        guard case .object(let fields) = root else {
            throw AdapterError.invalidConfig(file: path, field: "(file)", problem: "is \(root.kind), not a JSON object")
        }
        func invalid(_ field: String, _ problem: String) -> AdapterError { .invalidConfig(file: path, field: field, problem: problem) }
        func number(_ field: String) -> Double? {
            switch fields[field] {
            case .int(let value): Double(value)
            case .double(let value): value
            default: nil
            }
        }
        func isUnset(_ field: String) -> Bool {
            switch fields[field] {
            case nil, .null, .bool(false): true
            case .array(let elements): elements.isEmpty
            case .object(let object): object.count == 0
            default: false
            }
        }

        if let type = fields["peft_type"], type != .string("LORA") {
            throw invalid("peft_type", "is \(JSONWriter().string(type)); Fledge loads LoRA adapters (\"LORA\") only")
        }
        guard case .int(let r) = fields["r"] else { throw invalid("r", "must be a positive integer (the LoRA rank)") }
        guard let alpha = number("lora_alpha") else { throw invalid("lora_alpha", "must be a number") }
        let dropout = fields["lora_dropout"] == nil ? 0 : number("lora_dropout")
        guard let dropout else { throw invalid("lora_dropout", "must be a number") }
        func flag(_ field: String) throws -> Bool {
            switch fields[field] {
            case nil, .null: return false
            case .bool(let flag): return flag
            default: throw invalid(field, "must be true or false")
            }
        }
        let useRSLoRA = try flag("use_rslora"), useDoRA = try flag("use_dora")
        if case .string(let pattern) = fields["target_modules"], pattern != LoRAOptions.allLinear {
            throw invalid("target_modules", "is the regular expression \"\(pattern)\"; Fledge needs a list of module names")
        }
        var parameters: [String] = []
        switch fields["target_parameters"] {
        case nil, .null: break
        case .array(let entries):
            parameters = entries.compactMap { if case .string(let name) = $0 { name } else { nil } }
            guard parameters.count == entries.count else {
                throw invalid("target_parameters", "is \(JSONWriter().string(.array(entries))); it must be a list of parameter names")
            }
        default:
            throw invalid("target_parameters", "must be a list of parameter names such as mlp.down_proj.weight")
        }
        // With target_parameters, PEFT saves the modules it adapts besides them, possibly none.
        let noModules = !parameters.isEmpty && [nil, .null, .array([])].contains(fields["target_modules"])
        guard let targets = noModules ? [] : targetModules(fields["target_modules"]) else {
            throw invalid("target_modules", "must be a non-empty list of module names or \"all-linear\"")
        }
        if let bias = fields["bias"], bias != .string("none") {
            throw invalid("bias", "is \(JSONWriter().string(bias)); Fledge's LoRA trains no biases (\"none\")")
        }
        var modulesToSave: [String] = []
        switch fields["modules_to_save"] {
        case nil, .null: break
        case .array(let entries):
            modulesToSave = entries.compactMap { if case .string(let name) = $0 { name } else { nil } }
            guard modulesToSave.count == entries.count else {
                throw invalid("modules_to_save", "is \(JSONWriter().string(.array(entries))); it must be a list of module names")
            }
        default:
            throw invalid("modules_to_save", "must be a list of module names")
        }
        for field in ["fan_in_fan_out", "rank_pattern", "alpha_pattern", "layers_to_transform",
                      "exclude_modules", "layer_replication", "trainable_token_indices", "lora_bias"]
        where !isUnset(field) {
            throw invalid(field, "is set; Fledge implements plain LoRA without it (remove it or train the adapter without it)")
        }
        let options = LoRAOptions(r: r, alpha: alpha, dropout: dropout, targetModules: targets, useRSLoRA: useRSLoRA,
                                  useDoRA: useDoRA, targetParameters: parameters)
        if let (field, problem) = options.problem { throw invalid(field, problem) }
        return (options, modulesToSave)
    }

    /// The head module names PEFT adds to `modules_to_save` for its `SEQ_CLS` task, in its order.
    static let classifierHeadModules = ["classifier", "score", "pre_classifier"]
    static var classifierHeadNames: Set<String> { Set(classifierHeadModules) }

    /// The module names of a `target_modules` value: a non-empty list of strings, or `all-linear`.
    private static func targetModules(_ value: JSONValue?) -> [String]? {
        switch value {
        case .string(LoRAOptions.allLinear):
            return [LoRAOptions.allLinear]
        case .array(let entries):
            let names = entries.compactMap { if case .string(let name) = $0 { name } else { nil } }
            return names.isEmpty || names.count != entries.count ? nil : names
        default:
            return nil
        }
    }
}
