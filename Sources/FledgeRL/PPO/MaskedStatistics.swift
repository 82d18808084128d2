/// TRL's `masked_mean`, `masked_var` and `masked_whiten` (the PPO trainer's), over values and a
/// mask of the same length.
enum MaskedStatistics {
    /// The mean of the values where the mask is true; NaN when it is true nowhere.
    static func mean(_ values: [Double], mask: [Bool]) -> Double {
        let kept = zip(values, mask).filter(\.1)
        return kept.reduce(0) { $0 + $1.0 } / Double(kept.count)
    }

    /// The variance of the values where the mask is true, with Bessel's correction.
    static func variance(_ values: [Double], mask: [Bool]) -> Double {
        let count = mask.filter { $0 }.count
        precondition(count > 0, "the mask selects no token (a minibatch of one empty response?); use larger minibatches")
        let center = mean(values, mask: mask)
        return mean(values.map { ($0 - center) * ($0 - center) }, mask: mask) * Double(count) / Double(count - 1)
    }

    /// Every value (masked or not) shifted by the masked mean and divided by the masked standard
    /// deviation (+1e-8 under the root); with `shiftMean` false the mean is added back.
    static func whiten(_ values: [Double], mask: [Bool], shiftMean: Bool = true) -> [Double] {
        let center = mean(values, mask: mask)
        let scale = 1 / (variance(values, mask: mask) + 1e-8).squareRoot()
        return values.map { ($0 - center) * scale + (shiftMean ? 0 : center) }
    }
}
