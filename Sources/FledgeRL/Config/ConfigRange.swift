/// The values a numeric config field accepts: an interval of finite numbers, with an optional reason
/// that a message gives when a value falls outside it.
///
/// NaN and the infinities are outside every range. A field declares its range in its config's field
/// table (``ConfigField/init(_:_:_:)``); the resolver checks every field against it before any other
/// check runs, so the checks, and the trainers' arithmetic on counts, only see values inside it.
public struct ConfigRange: Sendable, Equatable, CustomStringConvertible {
    /// The smallest accepted value, or nil for no lower bound.
    public let lower: Double?
    /// Whether `lower` itself is accepted.
    public let includesLower: Bool
    /// The largest accepted value, or nil for no upper bound.
    public let upper: Double?
    /// Whether `upper` itself is accepted.
    public let includesUpper: Bool
    /// Why the range is what it is, added to the message about a value outside it.
    public let reason: String?

    private init(_ lower: Double?, includesLower: Bool, _ upper: Double?, includesUpper: Bool, reason: String? = nil) {
        self.lower = lower
        self.includesLower = includesLower
        self.upper = upper
        self.includesUpper = includesUpper
        self.reason = reason
    }

    /// `[lower, upper]`.
    public static func closed(_ lower: Double, _ upper: Double) -> ConfigRange {
        ConfigRange(lower, includesLower: true, upper, includesUpper: true)
    }

    /// `(lower, upper]`: left-open.
    public static func leftOpen(_ lower: Double, _ upper: Double) -> ConfigRange {
        ConfigRange(lower, includesLower: false, upper, includesUpper: true)
    }

    /// `[lower, upper)`: right-open.
    public static func rightOpen(_ lower: Double, _ upper: Double) -> ConfigRange {
        ConfigRange(lower, includesLower: true, upper, includesUpper: false)
    }

    /// `(lower, upper)`.
    public static func open(_ lower: Double, _ upper: Double) -> ConfigRange {
        ConfigRange(lower, includesLower: false, upper, includesUpper: false)
    }

    /// `[lower, ∞)`: finite values of at least `lower`.
    public static func atLeast(_ lower: Double) -> ConfigRange {
        ConfigRange(lower, includesLower: true, nil, includesUpper: false)
    }

    /// `(0, ∞)`: finite positive values.
    public static let positive = ConfigRange(0, includesLower: false, nil, includesUpper: false)

    /// `(−∞, ∞)`: any finite value.
    public static let finite = ConfigRange(nil, includesLower: false, nil, includesUpper: false)

    /// `[−1e30, 1e30]`: finite values of an ordinary magnitude, such as rewards and their weights, which
    /// are summed and multiplied without overflowing to infinity.
    public static let ordinaryMagnitude = closed(-magnitudeLimit, magnitudeLimit)

    /// The same range, with `reason` added to its messages.
    public func because(_ reason: String) -> ConfigRange {
        ConfigRange(lower, includesLower: includesLower, upper, includesUpper: includesUpper, reason: reason)
    }

    /// Whether `value` is inside the range (never for NaN or an infinity).
    public func contains(_ value: Double) -> Bool {
        guard value.isFinite else { return false }
        if let lower, includesLower ? value < lower : value <= lower { return false }
        if let upper, includesUpper ? value > upper : value >= upper { return false }
        return true
    }

    /// The range in interval notation: `[1, 1048576]`, `(0, 1]`, `[0, ∞)`.
    public var description: String {
        (includesLower && lower != nil ? "[" : "(") + (lower.map(Self.format) ?? "−∞") + ", "
            + (upper.map(Self.format) ?? "∞") + (includesUpper && upper != nil ? "]" : ")")
    }

    /// What a value must be, completing "must be …": `in (0, 1]`, `positive and finite`, `at least 0
    /// and finite`, `finite` — with the reason, when there is one, after a semicolon.
    public var requirement: String {
        let bounds = switch (lower, upper) {
        case (_?, _?): "in \(self)"
        case (0?, nil) where !includesLower: "positive and finite"
        case (let lower?, nil): (includesLower ? "at least " : "greater than ") + Self.format(lower) + " and finite"
        case (nil, let upper?): (includesUpper ? "at most " : "less than ") + Self.format(upper) + " and finite"
        case (nil, nil): "finite"
        }
        return reason.map { "\(bounds); \($0)" } ?? bounds
    }

    /// A bound as it reads in messages: integers without a fraction, large and small values as `1e30`.
    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        return value.description.replacingOccurrences(of: "e+", with: "e")
    }
}

extension ConfigRange {
    /// The most rows in a batch, completions in a group, micro-steps, epochs of PPO, processes and
    /// similar counts: 2^20. Products of three such counts still fit in an `Int`.
    public static let countLimit = 1_048_576.0
    /// The longest sequence, prompt or completion, in tokens: 2^24.
    public static let tokenLimit = 16_777_216.0
    /// The most optimizer steps (and warm-up, logging, saving and evaluation intervals): 10^9.
    public static let stepLimit = 1_000_000_000.0
    /// The largest seed: 2^32 − 1, as transformers' `set_seed` (NumPy) accepts.
    public static let seedLimit = 4_294_967_295.0
    /// The largest magnitude of a reward or a weight: 1e30.
    public static let magnitudeLimit = 1e30

    /// `[1, 2^20]`: a count of rows, completions, steps per round, epochs of PPO or processes.
    public static let count = closed(1, countLimit)
    /// `[1, 2^24]`: a length in tokens.
    public static let tokens = closed(1, tokenLimit)
    /// `[1, 10^9]`: a number of optimizer steps.
    public static let steps = closed(1, stepLimit)
    /// `[0, 1]`: a fraction or a probability.
    public static let fraction = closed(0, 1)
    /// `(0, 10)`: a sampling temperature (the `temperature` fields, and `fledge generate --temperature`).
    public static let samplingTemperature = open(0, 10)
        .because("sampling divides the logits by it, and from 10 up it samples nearly uniform noise")
}
