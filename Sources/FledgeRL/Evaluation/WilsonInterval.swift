/// The Wilson score interval for a proportion (Wilson 1927; Brown, Cai & DasGupta 2001 recommend it
/// over the normal approximation, which leaves [0, 1] and collapses to a point at 0 % and 100 %):
/// for `successes` out of `trials` with p̂ = successes / trials and z the normal quantile,
///
///     centre = (p̂ + z²/2n) / (1 + z²/n),  half-width = z / (1 + z²/n) · √(p̂(1 − p̂)/n + z²/4n²).
///
/// `successes` may be fractional: with several samples per problem, evaluation passes the summed
/// per-problem share of correct samples (so n counts problems, the independent units).
public struct WilsonInterval: Equatable, Sendable {
    public let lower: Double
    public let upper: Double

    /// z for a two-sided 95 % interval: the 0.975 quantile of the standard normal.
    public static let z95 = 1.959963984540054

    /// The interval at `z` (default 95 %); [0, 1] when there are no trials.
    public init(successes: Double, trials: Int, z: Double = WilsonInterval.z95) {
        precondition(trials >= 0 && successes >= 0 && successes <= Double(trials),
                     "a Wilson interval needs 0 ≤ successes ≤ trials, got \(successes) of \(trials)")
        guard trials > 0 else {
            lower = 0
            upper = 1
            return
        }
        let n = Double(trials), p = successes / n, z2 = z * z
        let denominator = 1 + z2 / n
        let centre = (p + z2 / (2 * n)) / denominator
        let halfWidth = z / denominator * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
        lower = max(0, centre - halfWidth)
        upper = min(1, centre + halfWidth)
    }
}
