/// How to attach LoRA adapters, in PEFT's `LoraConfig` terms (the field names of
/// `adapter_config.json` are given with each property).
public struct LoRAOptions: Sendable, Equatable {
    /// `r`: the rank of A `[r, in]` and B `[out, r]`.
    public var r: Int
    /// `lora_alpha`: the update is scaled by `lora_alpha / r` (`lora_alpha / √r` with `useRSLoRA`).
    public var alpha: Double
    /// `lora_dropout`: the probability of zeroing an adapter input element during training.
    public var dropout: Double
    /// `target_modules`: module names or name suffixes to adapt, matched as PEFT matches them (a
    /// module is adapted when its full name, e.g. `model.layers.0.self_attn.q_proj`, equals an
    /// entry or ends with `.` + the entry): `q_proj`, `k_proj`, `v_proj`, `o_proj`, `gate_proj`,
    /// `up_proj`, `down_proj`, longer suffixes such as `layers.1.mlp.up_proj`, or `all-linear`
    /// (every projection of the decoder; PEFT's `all-linear` leaves out the output head, and
    /// so does Fledge). An entry that matches no module is an error. May be empty when
    /// `targetParameters` names weights.
    public var targetModules: [String]
    /// `target_parameters`: weights to adapt by parameter name, matched as PEFT matches them (an
    /// entry `mlp.down_proj.weight` adapts every weight whose full name, such as
    /// `model.layers.0.mlp.down_proj.weight`, equals it or ends with `.` + it). PEFT wraps each in a
    /// `lora.ParamWrapper`, which runs its module with W + s·B·A in place of W: for the 2-D weight
    /// of a decoder projection, the module's LoRA without dropout, saved under the same keys. So such
    /// a weight gets the same adapter a `targetModules` entry gives its projection, and, as in PEFT,
    /// `targetParameters` needs no dropout and no DoRA, and a module must not be named by both. Fledge
    /// adapts the weights of decoder projections this way (PEFT's 3-D expert weights need a mixture
    /// of experts, which Fledge has none of).
    public var targetParameters: [String]
    /// `use_rslora`: rank-stabilised LoRA, scaling by `lora_alpha / √r`.
    public var useRSLoRA: Bool
    /// `use_dora`: weight-decomposed LoRA (DoRA): each adapted layer also trains a magnitude per
    /// output row, starting at the frozen weight's row norms.
    public var useDoRA: Bool
    /// The seed of A's initialisation and of the dropout masks (PEFT draws both from torch's
    /// global generator; Fledge gives each adapter its own generator, seeded from this).
    public var seed: UInt64

    /// The special `target_modules` entry that selects every projection of the decoder.
    public static let allLinear = "all-linear"
    /// The projections of a Llama-shaped decoder layer that LoRA can adapt, by their short names
    /// (a family with fused projections, as Phi-3, has its own: `qkv_proj`, `gate_up_proj`).
    public static let adaptableModules = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

    /// Options with PEFT's defaults (`r` 8, `lora_alpha` 8, no dropout, and the default targets
    /// PEFT uses for Llama, Mistral, Qwen2 and Qwen3: `q_proj` and `v_proj`).
    public init(r: Int = 8, alpha: Double = 8, dropout: Double = 0, targetModules: [String] = ["q_proj", "v_proj"],
                useRSLoRA: Bool = false, useDoRA: Bool = false, seed: UInt64 = 0, targetParameters: [String] = []) {
        self.r = r
        self.alpha = alpha
        self.dropout = dropout
        self.targetModules = targetModules
        self.targetParameters = targetParameters
        self.useRSLoRA = useRSLoRA
        self.useDoRA = useDoRA
        self.seed = seed
    }

    /// The factor on `B·A`.
    public var scale: Float { Float(useRSLoRA ? alpha / Double(r).squareRoot() : alpha / Double(r)) }

    /// `targetModules` with `all-linear` written out as the short names it stands for: those of
    /// every projection of the decoder (`adaptable`, as `shortNames` gives them).
    func expandedTargets(adaptable: [String]) -> [String] {
        targetModules.flatMap { $0 == Self.allLinear ? adaptable : [$0] }
    }

    /// The distinct last components of `modules` (`model.layers.0.self_attn.q_proj` → `q_proj`), in order.
    static func shortNames(of modules: [String]) -> [String] {
        var seen = Set<String>()
        return modules.compactMap { $0.split(separator: ".").last.map(String.init) }.filter { seen.insert($0).inserted }
    }

    /// Throws when a value is out of range.
    func validate() throws(AdapterError) {
        if let (field, problem) = problem { throw .invalidOption(field: field, problem: problem) }
    }

    /// The first option that is out of range and what is wrong with it, or nil.
    var problem: (field: String, problem: String)? {
        if r <= 0 { return ("r", "is \(r); the rank must be a positive integer") }
        if !alpha.isFinite || alpha <= 0 { return ("lora_alpha", "is \(alpha); it must be a positive number") }
        if !(dropout >= 0 && dropout < 1) { return ("lora_dropout", "is \(dropout); it must be at least 0 and below 1") }
        if targetModules.isEmpty && targetParameters.isEmpty {
            return ("target_modules", "is empty; name modules such as q_proj, v_proj or all-linear (or weights in target_parameters)")
        }
        if !targetParameters.isEmpty && dropout != 0 {
            return ("lora_dropout", "is \(dropout); LoRA on parameters (target_parameters) works without dropout, as PEFT's "
                + "lora.ParamWrapper refuses it (W + s·B·A leaves no input to drop): set lora_dropout to 0")
        }
        if !targetParameters.isEmpty && useDoRA {
            return ("use_dora", "is true; LoRA on parameters (target_parameters) has no DoRA, as PEFT's lora.ParamWrapper "
                + "refuses it: set use_dora to false or adapt the modules with target_modules")
        }
        return nil
    }

    /// The names among `modules` that the targets select (`targetModules` by module name,
    /// `targetParameters` by the name of the module's weight), in the order of `modules`; throws naming
    /// the first target that selects nothing, or a module both select (PEFT refuses that too).
    func selectedModules(among modules: [String]) throws(AdapterError) -> [String] {
        let adaptable = Self.shortNames(of: modules)
        let targets = expandedTargets(adaptable: adaptable)
        func matches(_ name: String, _ target: String) -> Bool { name == target || name.hasSuffix("." + target) }
        if let unmatched = targets.first(where: { target in !modules.contains { matches($0, target) } }) {
            throw .unmatchedTarget(unmatched, adaptable: adaptable)
        }
        let byModule = Set(modules.filter { module in targets.contains { matches(module, $0) } })
        var byParameter = Set<String>()
        for parameter in targetParameters {
            let selected = modules.filter { matches($0 + ".weight", parameter) }
            guard !selected.isEmpty else {
                throw .invalidOption(field: "target_parameters", problem: "entry '\(parameter)' names no weight of a decoder "
                    + "projection; Fledge adapts projection weights by parameter name, e.g. "
                    + adaptable.map { "\($0).weight" }.joined(separator: ", ")
                    + " (PEFT refuses 1-D weights such as norms; embeddings and the head are not projections)")
            }
            if let both = selected.first(where: byModule.contains) {
                throw .invalidOption(field: "target_parameters", problem: "entry '\(parameter)' names the weight of \(both), "
                    + "which target_modules adapts already; PEFT refuses a module targeted both ways: name it in one of the two")
            }
            byParameter.formUnion(selected)
        }
        return modules.filter { byModule.contains($0) || byParameter.contains($0) }
    }
}
