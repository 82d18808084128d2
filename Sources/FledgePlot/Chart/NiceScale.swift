import Foundation

/// A linear axis whose ticks are round numbers: multiples of 1, 2 or 5 times a power of ten
/// (Heckbert, "Nice numbers for graph labels", Graphics Gems, 1990). The axis spans the data
/// (plus padding) rather than widening to the outer ticks, which would waste up to half a
/// panel when the data just crosses a tick.
public struct NiceScale: Sendable, Equatable {
    /// The axis range.
    public let lower: Double
    public let upper: Double
    /// The distance between ticks.
    public let tickStep: Double
    /// Tick values within `lower...upper`, ascending.
    public let ticks: [Double]

    /// An axis from `low` to `high`, widened by `padding` times the span on each side, with
    /// about `targetTicks` (at least 3) ticks inside it. `integral` keeps the tick step at least 1.
    public init(covering low: Double, _ high: Double, targetTicks: Int = 5, padding: Double = 0, integral: Bool = false) {
        precondition(low.isFinite && high.isFinite && low <= high, "NiceScale needs a finite range, got \(low)...\(high)")
        var (low, high) = (low, high)
        if low == high {
            let pad = integral ? 1 : low == 0 ? 1 : Swift.abs(low) * 0.1
            (low, high) = (low - pad, high + pad)
        }
        let pad = (high - low) * padding
        (lower, upper) = (low - pad, high + pad)
        var step = Self.niceNumber((upper - lower) / Double(Swift.max(targetTicks - 1, 1)), rounding: true)
        while true {
            if integral { step = Swift.max(step, 1) }
            // The tolerance keeps a bound that is a tick up to rounding (0.30000000000000004) a tick.
            let first = (lower / step - 1e-9).rounded(.up), last = (upper / step + 1e-9).rounded(.down)
            if last - first >= 2 || (integral && step == 1) {
                ticks = stride(from: first, through: last + 0.5, by: 1).map { $0.rounded() * step }
                break
            }
            step = Self.niceNumber(below: step)
        }
        tickStep = step
    }

    /// The nice number near `value`: 1, 2, 5 or 10 times a power of ten, the nearest one when
    /// `rounding`, otherwise the smallest one not below `value`.
    static func niceNumber(_ value: Double, rounding: Bool) -> Double {
        let exponent = (log10(value)).rounded(.down)
        let power = pow(10, exponent)
        let fraction = value / power
        let nice: Double
        if rounding {
            nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10
        } else {
            nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
        }
        return nice * power
    }

    /// The next nice number below the nice number `value` (5 → 2 → 1 → 0.5).
    static func niceNumber(below value: Double) -> Double {
        let power = pow(10, (log10(value) + 1e-9).rounded(.down))
        let mantissa = (value / power).rounded()
        return mantissa == 5 ? 2 * power : mantissa == 2 ? power : power / 2
    }

    /// Where `value` falls along the axis: 0 at `lower`, 1 at `upper`.
    public func fraction(_ value: Double) -> Double {
        (value - lower) / (upper - lower)
    }

    /// A tick label with as many digits as the tick step needs: `0.25`, `1.5k`, `3e-5`.
    public func label(_ value: Double) -> String {
        NumberLabel.format(value, resolution: tickStep)
    }
}

/// Short number labels for axes and legends.
public enum NumberLabel {
    /// `value` shown to the precision of `resolution` (the smallest difference that matters):
    /// plain decimals for ordinary magnitudes, k/M/G suffixes for large ones and an exponent
    /// for tiny ones.
    public static func format(_ value: Double, resolution: Double) -> String {
        if value == 0 { return "0" }
        let resolutionExponent = Int(log10(Swift.abs(resolution)).rounded(.down))
        let magnitude = Swift.abs(value)
        if magnitude >= 10_000 {
            let (scale, suffix): (Double, String) = magnitude >= 1e9 ? (1e9, "G") : magnitude >= 1e6 ? (1e6, "M") : (1e3, "k")
            let decimals = Swift.max(0, Int(log10(scale)) - resolutionExponent)
            return trimmed(String(format: "%.\(decimals)f", value / scale)) + suffix
        }
        if magnitude < 1e-3 {
            let exponent = Int(log10(magnitude).rounded(.down))
            let decimals = Swift.max(0, exponent - resolutionExponent)
            let mantissa = trimmed(String(format: "%.\(decimals)f", value / pow(10, Double(exponent))))
            return "\(mantissa)e\(exponent)"
        }
        return String(format: "%.\(Swift.max(0, -resolutionExponent))f", value)
    }

    /// A value to about four significant digits (a legend's latest value).
    public static func format(_ value: Double) -> String {
        if value == 0 { return "0" }
        let exponent = Int(log10(Swift.abs(value)).rounded(.down))
        return trimmed(format(value, resolution: pow(10, Double(exponent - 3))))
    }

    private static func trimmed(_ text: String) -> String {
        guard text.contains(".") else { return text }
        var text = Substring(text)
        while text.hasSuffix("0") { text = text.dropLast() }
        if text.hasSuffix(".") { text = text.dropLast() }
        return String(text)
    }
}
