import ArgumentParser
import Foundation
import FledgeRL

/// `fledge dpo --config FILE.yaml`: Direct Preference Optimization with TRL's `DPOConfig` fields.
struct DPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dpo",
        abstract: "Direct Preference Optimization of a model directory on preference pairs (TRL's DPOConfig fields).",
        discussion: """
            Rows are {"prompt", "chosen", "rejected"}, all strings or all chat-message lists. The reference \
            policy is the model with its LoRA adapters switched off (use_peft), or a frozen copy for full \
            fine-tuning; precompute_ref_log_probs computes its log-probs once and caches them in output_dir. \
            Checkpoints, metrics.jsonl and the final weights go to output_dir; Ctrl-C saves a checkpoint after \
            the current step and exits with status 130.
            """)

    @OptionGroup var options: TrainingCommandOptions

    func run() throws {
        let resolution = try options.resolve(DPOConfig.self)
        let config = resolution.config
        let model = try TrainingModels.load(config.run, seed: config.training.seed,
                                            gradientCheckpointing: config.training.checkpointsGradients,
                                            checkpointingMemoryBudget: config.training.checkpointingMemoryBudget)
        let encoder = PreferenceEncoder(tokenizer: try TrainingModels.tokenizer(config.run), maxLength: config.maxLength,
                                        truncationMode: config.truncationMode)
        let train = try PreferenceDataset(split: config.run.trainingSplit(), encoder: encoder)
        let evaluation = try evaluationSplit(config.run, config.training).map { try PreferenceDataset(split: $0, encoder: encoder) }
        note("\(train.pairs.count) \(train.isConversational ? "chat" : "text") preference pairs from \(train.source)"
            + (train.droppedCount > 0 ? " (\(train.droppedCount) dropped: the prompt fills max_length)" : "")
            + (evaluation.map { ", \($0.pairs.count) for evaluation" } ?? ""))
        if config.precomputeRefLogProbs { note("reference log-probs: reading or computing them before training") }
        let dpo = try DPO(model: model, train: train.pairs, evaluation: evaluation?.pairs, config: config,
                          reference: try ReferencePolicy.of(model))
        if let precomputed = dpo.precomputedTrain {
            note("reference log-probs " + (precomputed.wasCached ? "read from the cache" : "computed and cached")
                + " in \(config.training.outputDirectory.appendingPathComponent("reference_logps").path)")
        }
        try TrainingRun(trainer: try Trainer(algorithm: dpo, model: model, arguments: config.training), config: resolution).run()
    }
}
