import FledgeNN
import FledgeTensor

/// A weight of a module trained whole beside LoRA adapters (PEFT's `ModulesToSaveWrapper`): its
/// checkpoint name, the base's tensor (still used with the adapters disabled) and the trained copy.
struct SavedModuleWeight {
    let name: String
    let original: Tensor
    let trained: Tensor
}

extension PretrainedModel {
    /// Trains the modules `modules` names whole beside the attached LoRA adapters, as PEFT's
    /// `modules_to_save` does (typically `lm_head` and `embed_tokens`, for new tokens or a new chat
    /// format; a sequence classifier's `score`). An entry names a module as `target_modules` entries do
    /// (the full name, such as `model.embed_tokens`, or a suffix after a `.`). Each weight of those
    /// modules becomes a trainable copy, in memory the engine owns, of the base's weight, which stays
    /// as it is for the adapters-disabled reference (for float32 checkpoints a memory mapping, so the
    /// copy is the only new memory: `vocab × hidden × 4` bytes for a head or embedding; for other bases
    /// the original stays in memory beside it, twice that). The trained weights are saved in the adapter
    /// directory under PEFT's keys (`base_model.model.lm_head.weight`) and replace the base's when merged.
    ///
    /// Throws, changing nothing, without adapters, when an entry names no module (PEFT's `SEQ_CLS`
    /// head names `classifier`, `score` and `pre_classifier` may name none, as PEFT allows), names a
    /// decoder projection (adapt it with LoRA, or train every weight), or names the embedding or head
    /// of a model whose config ties them (PEFT's default then trains a copy of the named one alone,
    /// untying them; Fledge does not implement that), or when other modules already train.
    public func trainModulesFully(_ modules: [String]) throws(AdapterError) {
        guard hasAdapters else {
            throw .invalidOption(field: "modules_to_save", problem: "trains modules beside LoRA adapters; attach adapters first")
        }
        let names = try weightNamesOfModules(modules)
        guard modulesToSave.isEmpty || modulesToSave == modules else {
            throw .invalidOption(field: "modules_to_save", problem: "is \(modules), and the model already trains "
                + "\(modulesToSave) whole; load the adapter into a fresh model")
        }
        guard modulesToSave.isEmpty else { return }
        let named = Dictionary(namedWeights, uniquingKeysWith: { first, _ in first })
        savedModuleWeights = names.map { name in
            let original = named[name]!
            let trained = original.copied()
            trained.requiresGrad = true
            return SavedModuleWeight(name: name, original: original, trained: trained)
        }
        modulesToSave = modules
        useSavedModuleWeights(original: false)
    }

    /// The checkpoint names of the weights of the modules `modules` names, in `namedWeights` order,
    /// after the checks ``trainModulesFully(_:)`` describes.
    func weightNamesOfModules(_ modules: [String]) throws(AdapterError) -> [String] {
        func invalid(_ problem: String) -> AdapterError { .invalidOption(field: "modules_to_save", problem: problem) }
        func matches(_ module: String, _ entry: String) -> Bool { module == entry || module.hasSuffix("." + entry) }
        let projections = namedLinears.map(\.0)
        let weights = namedWeights.map(\.0)
        var selected = Set<String>()
        for entry in modules {
            if config.tieWordEmbeddings && (matches("lm_head", entry) || matches("model.embed_tokens", entry)) {
                throw invalid("names \(entry), and config.json ties the embedding and the output head (tie_word_embeddings); "
                    + "PEFT (as TRL configures it, without ensure_weight_tying) then trains a copy of the named one alone, "
                    + "untying them, and warns that merging or converting such an adapter is ill-defined (the merged "
                    + "config still ties them), so Fledge does not: train without modules_to_save, or save the base untied "
                    + "(tie_word_embeddings: false with its own lm_head.weight)")
            }
            if let projection = projections.first(where: { matches($0, entry) }) {
                throw invalid("names \(entry), which matches the decoder projection \(projection); adapt projections with LoRA "
                    + "(target_modules), and train whole modules outside them: embed_tokens, lm_head, norms")
            }
            let found = weights.filter { weight in weight.lastIndex(of: ".").map { matches(String(weight[..<$0]), entry) } ?? false }
            if found.isEmpty && !PEFTAdapterConfig.classifierHeadNames.contains(entry) {
                throw invalid("names \(entry), which matches no module with weights of its own (Fledge trains whole "
                    + "embeddings, heads and norms, named as model.embed_tokens or lm_head, or by their last components)")
            }
            selected.formUnion(found)
        }
        return weights.filter(selected.contains)
    }

    /// Puts the original (`original`) or trained weights of the modules trained whole into the model.
    func useSavedModuleWeights(original: Bool) {
        guard !savedModuleWeights.isEmpty else { return }
        let replacements = Dictionary(uniqueKeysWithValues: savedModuleWeights.map { ($0.name, original ? $0.original : $0.trained) })
        updateParameters { name, tensor in replacements[name] ?? tensor }
    }
}
