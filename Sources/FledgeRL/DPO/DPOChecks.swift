extension ConfigCheck where Config == DPOConfig {
    /// Check 7 (DPO): TRL's validations of the loss settings.
    static var dpo: ConfigCheck {
        ConfigCheck { resolution in
            let config = resolution.config
            let losses = Set(config.lossType)
            if let weights = config.lossWeights, weights.count != config.lossType.count {
                resolution.fail(
                    \.lossWeights,
                    "give one weight per loss in loss_type (\(config.lossType.count)), not \(weights.count)")
            }
            if losses.contains(.exoPair), config.labelSmoothing == 0 {
                resolution.fail(\.labelSmoothing, "the exo_pair loss needs label_smoothing > 0 (the EXO paper uses 1e-3)")
            }
            if losses.contains(.robust), !(0..<0.5).contains(config.labelSmoothing) {
                resolution.warn(\.labelSmoothing, "the robust loss needs label_smoothing in [0, 0.5)")
            }
            if config.labelSmoothing != 0, losses.isDisjoint(with: DPOLossType.usingLabelSmoothing) {
                resolution.note(
                    \.labelSmoothing,
                    "only the robust, exo_pair, aot and aot_unpaired losses use label_smoothing; it is ignored")
            }
            if config.fDivergenceType != .reverseKL, !losses.isSubset(of: DPOLossType.supportingFDivergence) {
                let names = DPOLossType.supportingFDivergence.map(\.rawValue).sorted().joined(separator: ", ")
                resolution.fail(
                    \.fDivergenceType,
                    "only the \(names) losses support a divergence other than reverse_kl; use reverse_kl")
            }
            if config.useWeighting, !losses.isDisjoint(with: [.aot, .aotUnpaired]) {
                resolution.fail(
                    \.useWeighting,
                    "WPO weighting does not work with aot or aot_unpaired (they sort pairs); set it to false")
            }
            if config.truncationMode == .keepEnd {
                resolution.warn(\.truncationMode, "keep_end is deprecated in TRL; keep_start is the default")
            }
        }
    }
}
