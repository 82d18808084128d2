import Foundation
import FledgeHub
import FledgeLM
import FledgeTensor

/// The model and tokenizer a training run's `model_name_or_path` names.
public enum TrainingModels {
    /// Loads the model directory for training: LoRA adapters (`lora_r`, `lora_alpha`,
    /// `lora_dropout`, `lora_target_modules`, `lora_target_parameters`, seeded by `seed`, and `lora_modules_to_save` trained
    /// whole beside them) when `use_peft`, else every weight
    /// trainable; with gradient checkpointing as set, only above `checkpointingMemoryBudget` bytes of
    /// estimated activations when that is given (`gradient_checkpointing: auto`). With `load_in_4bit` /
    /// `load_in_8bit` each base weight is quantized as it loads (which needs `use_peft`); the reference policy of a
    /// LoRA run is that quantized base with the adapters off.
    ///
    /// A GGUF file's linear weights are held as `ggufWeights(run)` says. With `productPrecision`
    /// bfloat16 (`bf16: true`), a LoRA run stores its float base in bfloat16 (`baseStorage`).
    public static func load(_ run: RunArguments, seed: Int, gradientCheckpointing: Bool,
                            checkpointingMemoryBudget: Int? = nil, productPrecision: ProductPrecision = .float32) throws -> LanguageModel {
        let directory = try modelDirectory(run)
        let quantization = try baseStorage(run, productPrecision: productPrecision)
        if let quantization, !run.usePeft {
            throw TrainingError.invalidSetting("\(run.loadIn4bit ? "load_in_4bit" : "load_in_8bit") freezes the base in "
                + "\(quantization.format.rawValue): set use_peft: true to train LoRA adapters on it (a quantized base cannot be fine-tuned)")
        }
        let ggufWeights = try ggufWeights(run)
        guard let model = try PretrainedModel.load(directory: directory, ggufWeights: ggufWeights, quantization: quantization)
            as? LanguageModel else {
            throw TrainingError.invalidSetting("model_name_or_path \(directory.path) is a sequence classifier; "
                + "training needs a causal language model (…ForCausalLM)")
        }
        if run.usePeft {
            var options = LoRAOptions(r: run.loraR, alpha: Double(run.loraAlpha), dropout: run.loraDropout,
                                      seed: UInt64(bitPattern: Int64(seed)))
            options.useRSLoRA = run.useRslora
            options.useDoRA = run.useDora
            if let targets = run.loraTargetModules { options.targetModules = targets }
            options.targetParameters = run.loraTargetParameters ?? []
            try model.addLoRA(options)
            try model.trainModulesFully(run.loraModulesToSave ?? [])
        } else {
            model.makeFullyTrainable()
        }
        model.gradientCheckpointing = gradientCheckpointing
        model.checkpointingMemoryBudget = checkpointingMemoryBudget
        return model
    }

    /// ``load(_:seed:gradientCheckpointing:checkpointingMemoryBudget:productPrecision:)`` with `training`'s
    /// `seed`, `gradient_checkpointing` and its memory budget, and `bf16`, as every trainer loads its model.
    public static func load(_ run: RunArguments, training: TrainingArguments) throws -> LanguageModel {
        try load(run, seed: training.seed, gradientCheckpointing: training.checkpointsGradients,
                 checkpointingMemoryBudget: training.checkpointingMemoryBudget, productPrecision: training.productPrecision)
    }

    /// How the frozen base's linear weights are stored: the quantization `load_in_4bit` / `load_in_8bit`
    /// ask for; else, in a LoRA run whose products are bfloat16 (`bf16: true`), bfloat16
    /// (`QuantizationFormat.bf16`): autocast rounds a frozen weight to bfloat16 in every product, so
    /// the weight stored rounded takes half the memory and gives every product exactly as before
    /// (weights a GGUF file keeps in blocks stay so); nil (float32) otherwise. DoRA keeps a float base,
    /// as its magnitude divides by the norm of the float32 weight.
    public static func baseStorage(_ run: RunArguments, productPrecision: ProductPrecision) throws(TrainingError) -> BaseQuantization? {
        if let quantization = try quantization(run) { return quantization }
        guard run.usePeft, !run.useDora, productPrecision == .bfloat16 else { return nil }
        return BaseQuantization(.bf16)
    }

    /// The quantized frozen base that `load_in_4bit` / `load_in_8bit` ask for: its format, and
    /// whether NF4/FP4 statistics are nested (`use_bnb_nested_quant`, which, as in TRL, only
    /// matters with `load_in_4bit`); nil for a float base.
    public static func quantization(_ run: RunArguments) throws(TrainingError) -> BaseQuantization? {
        switch (run.loadIn4bit, run.loadIn8bit) {
        case (true, true):
            throw .invalidSetting("load_in_4bit and load_in_8bit are both true: choose one")
        case (true, false):
            return BaseQuantization(run.bnb4bitQuantType == .nf4 ? .nf4 : .fp4, nestedAbsmax: run.useBnbNestedQuant)
        case (false, true):
            return BaseQuantization(.int8)
        case (false, false):
            return nil
        }
    }

    /// How a GGUF base's Q8_0, Q4_0 and Q4_K linear weights are held (`gguf_weights`): in their
    /// blocks (`keep`) when LoRA trains on a base nothing else quantizes, else as float32 — for full
    /// fine-tuning (every weight trainable) and when `load_in_4bit`/`load_in_8bit` choose the base's
    /// format (quantized from the file's values). `keep` asked where it cannot apply is an error.
    public static func ggufWeights(_ run: RunArguments) throws(TrainingError) -> GGUFWeights {
        let keepable = run.usePeft && !run.loadIn4bit && !run.loadIn8bit
        guard run.ggufWeights != .keep || keepable else {
            throw .invalidSetting(run.usePeft
                ? "gguf_weights: keep conflicts with \(run.loadIn4bit ? "load_in_4bit" : "load_in_8bit"), which quantizes the base "
                    + "to its own format from float32: remove one of them"
                : "gguf_weights: keep freezes the GGUF file's quantized weights: set use_peft: true to train LoRA adapters on "
                    + "them, or gguf_weights: float to fine-tune every weight")
        }
        return run.ggufWeights ?? (keepable ? .keep : .float)
    }

    /// The tokenizer of the model directory (or GGUF file).
    public static func tokenizer(_ run: RunArguments) throws -> Tokenizer {
        try Tokenizer(directory: modelDirectory(run).path)
    }

    /// The model `model_name_or_path` names: a local directory or GGUF file, or the Hugging Face cache's
    /// snapshot of a Hub id at `model_revision` (downloaded when missing and not `HF_HUB_OFFLINE`).
    public static func modelDirectory(_ run: RunArguments) throws(TrainingError) -> URL {
        guard let path = run.modelNameOrPath else {
            throw .invalidSetting("model_name_or_path is not set; give a Hub model id (org/name), a local Hugging Face model directory or a .gguf file")
        }
        do {
            return try ModelLocation.resolve(path, revision: run.modelRevision == "main" ? nil : run.modelRevision)
        } catch {
            throw .invalidSetting("model_name_or_path \(path): \(error)")
        }
    }
}
