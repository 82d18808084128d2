import Foundation
import FledgeLM

/// The model and tokenizer a training run's `model_name_or_path` names.
public enum TrainingModels {
    /// Loads the model directory for training: LoRA adapters (`lora_r`, `lora_alpha`,
    /// `lora_dropout`, `lora_target_modules`, seeded by `seed`) when `use_peft`, else every weight
    /// trainable; with gradient checkpointing as set, only above `checkpointingMemoryBudget` bytes of
    /// estimated activations when that is given (`gradient_checkpointing: auto`).
    public static func load(_ run: RunArguments, seed: Int, gradientCheckpointing: Bool,
                            checkpointingMemoryBudget: Int? = nil) throws -> LanguageModel {
        let directory = try modelDirectory(run)
        guard let model = try PretrainedModel.load(directory: directory) as? LanguageModel else {
            throw TrainingError.invalidSetting("model_name_or_path \(directory.path) is a sequence classifier; "
                + "training needs a causal language model (…ForCausalLM)")
        }
        if run.usePeft {
            var options = LoRAOptions(r: run.loraR, alpha: Double(run.loraAlpha), dropout: run.loraDropout,
                                      seed: UInt64(bitPattern: Int64(seed)))
            if let targets = run.loraTargetModules { options.targetModules = targets }
            try model.addLoRA(options)
        } else {
            model.makeFullyTrainable()
        }
        model.gradientCheckpointing = gradientCheckpointing
        model.checkpointingMemoryBudget = checkpointingMemoryBudget
        return model
    }

    /// The tokenizer of the model directory.
    public static func tokenizer(_ run: RunArguments) throws -> Tokenizer {
        try Tokenizer(directory: modelDirectory(run).path)
    }

    private static func modelDirectory(_ run: RunArguments) throws(TrainingError) -> URL {
        guard let path = run.modelNameOrPath else {
            throw .invalidSetting("model_name_or_path is not set; give a local Hugging Face model directory")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .invalidSetting("model_name_or_path \(path): no such directory; give a local Hugging Face model directory "
                + "(config.json, safetensors weights, tokenizer.json); Fledge does not download models")
        }
        return URL(fileURLWithPath: path)
    }
}
