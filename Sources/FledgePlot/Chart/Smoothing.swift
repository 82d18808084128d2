/// Exponential-moving-average smoothing of noisy series, as TensorBoard draws it.
public enum Smoothing {
    /// Whether the values jump around more than a trend would: the mean step-to-step change
    /// is a large part of the whole range (a smooth curve of n points has about 1/n).
    public static func isNoisy(_ values: [Double]) -> Bool {
        guard values.count >= 8, let low = values.min(), let high = values.max(), high > low else { return false }
        let meanChange = zip(values.dropFirst(), values).reduce(0) { $0 + Swift.abs($1.0 - $1.1) } / Double(values.count - 1)
        return meanChange / (high - low) > Swift.max(0.05, 3 / Double(values.count))
    }

    /// The debiased EMA of `values` (so the first values are not pulled toward zero), with a
    /// window of about a twentieth of the series and at least 3 points.
    public static func smoothed(_ values: [Double]) -> [Double] {
        let window = Swift.max(3, Double(values.count) / 20)
        let decay = 1 - 2 / (window + 1)
        var average = 0.0, weight = 0.0
        return values.map { value in
            average = decay * average + (1 - decay) * value
            weight = decay * weight + (1 - decay)
            return average / weight
        }
    }
}
