/// TRL's NaN-skipping statistics (`torch.nanmean`, `trl.trainer.utils.nanstd`), with nil for NaN.
enum NaNStatistics {
    /// The mean of the present values; NaN when there are none.
    static func mean(_ values: [Double?]) -> Double {
        let present = values.compactMap { $0 }
        return present.isEmpty ? .nan : present.reduce(0, +) / Double(present.count)
    }

    /// The standard deviation of the present values with Bessel's correction; NaN for fewer than two.
    static func standardDeviation(_ values: [Double?]) -> Double {
        let present = values.compactMap { $0 }
        guard present.count > 1 else { return .nan }
        let mean = present.reduce(0, +) / Double(present.count)
        let squares = present.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        return (squares / Double(present.count - 1)).squareRoot()
    }
}
