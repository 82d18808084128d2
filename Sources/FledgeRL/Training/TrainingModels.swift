import Foundation
import FledgeHub
import FledgeLM

/// The model and tokenizer a training run's `model_name_or_path` names.
public enum TrainingModels {
    /// Loads the model directory for training: LoRA adapters (`lora_r`, `lora_alpha`,
    /// `lora_dropout`, `lora_target_modules`, seeded by `seed`) when `use_peft`, else every weight
    /// trainable; with gradient checkpointing as set.
    public static func load(_ run: RunArguments, seed: Int, gradientCheckpointing: Bool) throws -> LanguageModel {
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
        return model
    }

    /// The tokenizer of the model directory.
    public static func tokenizer(_ run: RunArguments) throws -> Tokenizer {
        try Tokenizer(directory: modelDirectory(run).path)
    }

    /// The model directory `model_name_or_path` names: a local directory, or the Hugging Face cache's
    /// snapshot of a Hub id at `model_revision` (downloaded when missing and not `HF_HUB_OFFLINE`).
    public static func modelDirectory(_ run: RunArguments) throws(TrainingError) -> URL {
        guard let path = run.modelNameOrPath else {
            throw .invalidSetting("model_name_or_path is not set; give a Hub model id (org/name) or a local Hugging Face model directory")
        }
        do {
            return try ModelLocation.resolve(path, revision: run.modelRevision == "main" ? nil : run.modelRevision)
        } catch {
            throw .invalidSetting("model_name_or_path \(path): \(error)")
        }
    }
}
