extension ConfigCheck where Config == SFTConfig {
    /// SFT: TRL's validations of packing and of the loss settings.
    static var sft: ConfigCheck {
        ConfigCheck { resolution in
            let config = resolution.config
            if config.maxLength == nil {
                if config.packing {
                    resolution.fail(\.packing, "packing needs max_length, the length of a packed row; set max_length")
                } else if config.packsEvaluation {
                    resolution.fail(\.evalPacking, "eval_packing needs max_length, the length of a packed row; set max_length")
                }
            }
            if config.packing || config.packsEvaluation, config.packingStrategy == .bfd, config.truncationMode == .keepEnd {
                resolution.warn(\.truncationMode, "packed examples longer than max_length keep their start, as TRL's "
                    + "\(config.packingStrategy.rawValue) packing cuts them; keep_end applies only to unpacked examples")
            }
            if config.packsEvaluation, !config.isPaddingFree, config.packingStrategy != .wrapped {
                resolution.warn(\.evalPacking, "without packing, TRL's collator is not padding-free, so the examples "
                    + "of a packed evaluation row attend to each other as one sequence; Fledge does the same")
            }
            if config.labelSmoothingFactor > 0 && config.lossType != .nll {
                resolution.warn(\.labelSmoothingFactor, "ignored: TRL smooths only the nll loss, not \(config.lossType.rawValue)")
            } else if config.labelSmoothingFactor > 0 {
                resolution.note(\.labelSmoothingFactor, "deprecated in TRL's SFTTrainer (to be removed in v2.0.0); the loss "
                    + "holds the logits of every trained token, as transformers' LabelSmoother does")
            }
        }
    }
}
