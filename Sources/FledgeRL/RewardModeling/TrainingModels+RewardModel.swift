import Foundation
import FledgeLM

extension TrainingModels {
    /// The reward model a `RewardConfig` trains (``SequenceClassifier/rewardModel(directory:padTokenId:seed:ggufWeights:quantization:)``):
    /// `model_name_or_path` as a one-label sequence classifier (a causal LM gets a new `score` head drawn
    /// with `seed`), its pad id ``SequenceClassifier/padTokenId(tokenizer:padToken:)`` (`pad_token`). With `use_peft` it gets LoRA adapters and its
    /// head trains beside them (PEFT's `SEQ_CLS` `modules_to_save`), else every weight trains; gradient
    /// checkpointing as `training` sets it.
    public static func rewardModel(_ config: RewardConfig, tokenizer: Tokenizer) throws -> SequenceClassifier {
        let run = config.run, training = config.training
        let quantization = try quantization(run)
        if let quantization, !run.usePeft {
            throw TrainingError.invalidSetting("\(run.loadIn4bit ? "load_in_4bit" : "load_in_8bit") freezes the base in "
                + "\(quantization.format.rawValue): set use_peft: true to train LoRA adapters on it (a quantized base cannot be fine-tuned)")
        }
        let seed = UInt64(bitPattern: Int64(training.seed))
        let model = try SequenceClassifier.rewardModel(directory: modelDirectory(run), padTokenId: SequenceClassifier.padTokenId(tokenizer: tokenizer, padToken: config.padToken),
                                                       seed: seed, ggufWeights: ggufWeights(run), quantization: quantization)
        if run.usePeft {
            var options = LoRAOptions(r: run.loraR, alpha: Double(run.loraAlpha), dropout: run.loraDropout, seed: seed)
            options.useRSLoRA = run.useRslora
            if let targets = run.loraTargetModules { options.targetModules = targets }
            try model.addLoRA(options)
            model.makeHeadTrainable()
        } else {
            model.makeFullyTrainable()
        }
        model.gradientCheckpointing = training.checkpointsGradients
        model.checkpointingMemoryBudget = training.checkpointingMemoryBudget
        return model
    }
}
