/// An exact rational number with 64-bit numerator and denominator, for the calculator: every operation is exact or
/// fails with a clear message (never rounds, never traps).
struct ExactFraction: Equatable {
    /// The numerator; the fraction is kept in lowest terms with a positive denominator.
    let numerator: Int
    let denominator: Int

    static let tooLarge = CalculatorError("the result does not fit the calculator's exact numbers (numerators and "
        + "denominators up to 9223372036854775807); use smaller numbers")

    init(_ integer: Int) {
        numerator = integer
        denominator = 1
    }

    init(numerator: Int, denominator: Int) throws(CalculatorError) {
        guard denominator != 0 else { throw CalculatorError("division by zero") }
        guard numerator != .min, denominator != .min else { throw Self.tooLarge }
        let divisor = Self.gcd(abs(numerator), abs(denominator))
        let sign = denominator < 0 ? -1 : 1
        self.numerator = sign * numerator / max(divisor, 1)
        self.denominator = sign * denominator / max(divisor, 1)
    }

    var isInteger: Bool { denominator == 1 }

    static func + (left: ExactFraction, right: ExactFraction) throws(CalculatorError) -> ExactFraction {
        let divisor = gcd(left.denominator, right.denominator)
        let leftScale = right.denominator / divisor, rightScale = left.denominator / divisor
        return try ExactFraction(numerator: add(try multiply(left.numerator, leftScale), try multiply(right.numerator, rightScale)),
                                 denominator: try multiply(left.denominator, leftScale))
    }

    static prefix func - (value: ExactFraction) throws(CalculatorError) -> ExactFraction {
        try ExactFraction(numerator: -value.numerator, denominator: value.denominator)
    }

    static func - (left: ExactFraction, right: ExactFraction) throws(CalculatorError) -> ExactFraction {
        try left + (try -right)
    }

    static func * (left: ExactFraction, right: ExactFraction) throws(CalculatorError) -> ExactFraction {
        // Cross-reduce first, so that products of reduced fractions overflow as late as possible.
        let first = gcd(abs(left.numerator), right.denominator), second = gcd(abs(right.numerator), left.denominator)
        return try ExactFraction(
            numerator: try multiply(left.numerator / max(first, 1), right.numerator / max(second, 1)),
            denominator: try multiply(left.denominator / max(second, 1), right.denominator / max(first, 1)))
    }

    static func / (left: ExactFraction, right: ExactFraction) throws(CalculatorError) -> ExactFraction {
        guard right.numerator != 0 else { throw CalculatorError("division by zero") }
        return try left * (try ExactFraction(numerator: right.denominator, denominator: right.numerator))
    }

    /// Python's `%` on integers: the remainder takes the divisor's sign.
    static func % (left: ExactFraction, right: ExactFraction) throws(CalculatorError) -> ExactFraction {
        guard left.isInteger, right.isInteger else { throw CalculatorError("% needs whole numbers") }
        guard right.numerator != 0 else { throw CalculatorError("modulo by zero") }
        let remainder = left.numerator % right.numerator
        return ExactFraction(remainder != 0 && (remainder < 0) != (right.numerator < 0) ? remainder + right.numerator : remainder)
    }

    /// `self` to a whole power (a negative one inverts).
    func power(_ exponent: ExactFraction) throws(CalculatorError) -> ExactFraction {
        guard exponent.isInteger else { throw CalculatorError("exponents must be whole numbers") }
        var result = ExactFraction(1), base = self
        var remaining = exponent.numerator.magnitude
        if remaining > 64 && (abs(numerator) > 1 || denominator > 1) { throw Self.tooLarge }
        while remaining > 0 {
            if remaining & 1 == 1 { result = try result * base }
            remaining >>= 1
            if remaining > 0 { base = try base * base }
        }
        return exponent.numerator < 0 ? try ExactFraction(1) / result : result
    }

    /// The exact decimal when the fraction has one (its denominator has no prime factors but 2 and 5), else
    /// `numerator/denominator`.
    var text: String {
        if isInteger { return String(numerator) }
        var twos = 0, fives = 0, rest = denominator
        while rest % 2 == 0 { rest /= 2; twos += 1 }
        while rest % 5 == 0 { rest /= 5; fives += 1 }
        let places = max(twos, fives)
        guard rest == 1, let scale = Self.powerOfTen(places), let scaled = try? Self.multiply(numerator, scale / denominator)
        else { return "\(numerator)/\(denominator)" }
        let digits = String(scaled.magnitude)
        let padded = String(repeating: "0", count: max(0, places + 1 - digits.count)) + digits
        let point = padded.index(padded.endIndex, offsetBy: -places)
        return (scaled < 0 ? "-" : "") + padded[..<point] + "." + padded[point...]
    }

    private static func powerOfTen(_ exponent: Int) -> Int? {
        var value = 1
        for _ in 0..<exponent {
            let (product, overflow) = value.multipliedReportingOverflow(by: 10)
            if overflow { return nil }
            value = product
        }
        return value
    }

    static func gcd(_ first: Int, _ second: Int) -> Int {
        var (a, b) = (first, second)
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }

    private static func multiply(_ left: Int, _ right: Int) throws(CalculatorError) -> Int {
        let (product, overflow) = left.multipliedReportingOverflow(by: right)
        guard !overflow, product != .min else { throw tooLarge }
        return product
    }

    private static func add(_ left: Int, _ right: Int) throws(CalculatorError) -> Int {
        let (sum, overflow) = left.addingReportingOverflow(right)
        guard !overflow, sum != .min else { throw tooLarge }
        return sum
    }
}
