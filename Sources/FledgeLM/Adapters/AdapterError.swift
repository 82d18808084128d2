/// Why LoRA adapters could not be attached, saved or loaded. Every case names the option, file,
/// field or tensor at fault and says what would fix it.
public enum AdapterError: Error, CustomStringConvertible, Equatable {
    /// A `target_modules` entry selects no module of the model.
    case unmatchedTarget(String, adaptable: [String])
    /// A LoRA option is out of range.
    case invalidOption(field: String, problem: String)
    /// `addLoRA` on a model that already has adapters.
    case alreadyAttached
    /// An operation that needs adapters on a model without them.
    case noAdapters(operation: String)
    /// A file an adapter directory needs is not there.
    case missingFile(path: String, hint: String)
    /// adapter_config.json lacks a field, or has one Fledge cannot honour.
    case invalidConfig(file: String, field: String, problem: String)
    /// A tensor of adapter_model.safetensors is unknown, missing or misshapen.
    case invalidTensor(file: String, key: String, problem: String)

    public var description: String {
        switch self {
        case let .unmatchedTarget(target, adaptable):
            return "LoRA target module '\(target)' matches no module of the model; Fledge adapts the decoder projections "
                + adaptable.joined(separator: ", ") + " (by short name, a longer suffix such as layers.0.self_attn.q_proj, "
                + "or all-linear for every one)"
        case let .invalidOption(field, problem):
            return "LoRA option \(field) \(problem)"
        case .alreadyAttached:
            return "the model already has LoRA adapters; load the model again to attach different ones, "
                + "or use loadAdapter to replace the values of the attached ones"
        case let .noAdapters(operation):
            return "\(operation) needs LoRA adapters, and the model has none; call addLoRA or loadAdapter first"
        case let .missingFile(path, hint):
            return "\(path): no such file; \(hint)"
        case let .invalidConfig(file, field, problem):
            return "\(file): field '\(field)' \(problem)"
        case let .invalidTensor(file, key, problem):
            return "\(file): tensor '\(key)' \(problem)"
        }
    }
}
