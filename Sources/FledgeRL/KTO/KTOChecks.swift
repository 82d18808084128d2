extension ConfigCheck where Config == KTOConfig {
    /// KTO: TRL's `KTOTrainer.__init__` rules for the KL estimate.
    static var kto: ConfigCheck {
        ConfigCheck { resolution in
            let config = resolution.config
            guard config.lossType.estimatesKL else { return }
            if config.training.trainSamplingStrategy != .sequential {
                resolution.fail(
                    \.training.trainSamplingStrategy,
                    "the \(config.lossType.rawValue) loss estimates the KL term from each row's neighbours in a batch "
                        + "built in file order, which any other order breaks; use sequential (or loss_type: apo_zero_unpaired)")
            }
            if config.training.perDeviceTrainBatchSize <= 1 {
                resolution.fail(
                    \.training.perDeviceTrainBatchSize,
                    "the \(config.lossType.rawValue) loss needs at least 2 rows per micro-batch: with one, the KL "
                        + "estimate is the row's own log-ratio (TRL's rule)")
            }
        }
    }
}

extension KTOConfig {
    /// TRL's advice when a training split of `rows` rows, `desirable` of them desirable, has unequal numbers of desirable and undesirable rows and
    /// neither weight is in the range Eq. (8) of the KTO paper suggests (`desirable_weight` in
    /// [n_u·w_u/n_d, 1.33·n_u·w_u/n_d] or `undesirable_weight` in [n_d·w_d/(1.33·n_u), n_d·w_d/n_u],
    /// each bound rounded to two decimals); nil when the weights are fine.
    public func weightAdvice(desirable: Int, rows: Int) -> String? {
        // TRL's counts: at least 1 desirable row, and the rest (at least 1) undesirable.
        let desirable = Swift.max(desirable, 1), undesirable = Swift.max(rows - Swift.max(desirable, 1), 1)
        guard desirable != undesirable else { return nil }
        func rounded(_ value: Double) -> Double { (value * 100).rounded(.toNearestOrEven) / 100 }
        let ratio = Double(undesirable) * undesirableWeight / Double(desirable)
        let desirableRange = rounded(ratio)...rounded(ratio * 1.33)
        let inverse = Double(desirable) * desirableWeight / Double(undesirable)
        let undesirableRange = rounded(inverse / 1.33)...rounded(inverse)
        guard !desirableRange.contains(desirableWeight), !undesirableRange.contains(undesirableWeight) else { return nil }
        return "the training split has \(desirable) desirable and \(undesirable) undesirable rows, and the weights on their "
            + "losses are outside the range the KTO paper recommends: set EITHER desirable_weight in "
            + "[\(desirableRange.lowerBound), \(desirableRange.upperBound)] OR undesirable_weight in "
            + "[\(undesirableRange.lowerBound), \(undesirableRange.upperBound)] (not both)"
    }
}
