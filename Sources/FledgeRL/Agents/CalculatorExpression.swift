/// The calculator's arithmetic: exact integers and decimals with `+ - * / % ^` (also `**`, `×`, `÷`), unary signs
/// and parentheses, evaluated as Python evaluates them (`^` binds tighter than a unary minus and groups to the
/// right: `-2^2` is -4, `2^3^2` is 512; `%` takes the divisor's sign). Division is exact: `1/4` is 0.25, and a
/// quotient with no finite decimal is written as a fraction (`1/3`).
///
/// Its own recursive-descent parser over the expression's characters; bad input gives a `CalculatorError` naming
/// the character position, never a crash: expressions are limited in length and nesting.
public enum CalculatorExpression {
    /// The longest expression evaluated, in characters.
    public static let maximumLength = 10_000
    /// The deepest nesting of parentheses, signs and powers.
    public static let maximumDepth = 100

    /// The value of `expression`, as text (`42`, `2.5`, `-1/3`).
    public static func evaluate(_ expression: String) throws(CalculatorError) -> String {
        let characters = Array(expression)
        guard characters.count <= maximumLength else {
            throw CalculatorError("the expression has \(characters.count) characters; at most \(maximumLength) are evaluated")
        }
        var parser = Parser(characters: characters)
        parser.skipSpaces()
        guard parser.position < characters.count else { throw CalculatorError("the expression is empty") }
        let value = try parser.sum(depth: 0)
        parser.skipSpaces()
        if parser.position < characters.count {
            throw parser.unexpected(characters[parser.position] == ")" ? "')' without a matching '('" : nil)
        }
        return value.text
    }

    private struct Parser {
        let characters: [Character]
        var position = 0

        mutating func skipSpaces() {
            while position < characters.count, characters[position].isWhitespace { position += 1 }
        }

        /// The next operator among `operators` (after spaces), consumed; nil when the next text is none of them.
        mutating func take(_ operators: [String]) -> String? {
            skipSpaces()
            for symbol in operators {
                let text = Array(symbol)
                if position + text.count <= characters.count, Array(characters[position..<position + text.count]) == text {
                    // `*` must not take the first half of `**`.
                    if symbol == "*", position + 1 < characters.count, characters[position + 1] == "*" { continue }
                    position += text.count
                    return symbol
                }
            }
            return nil
        }

        func unexpected(_ what: String? = nil) -> CalculatorError {
            guard position < characters.count else { return CalculatorError("the expression ends where a number was expected") }
            let description = what ?? "unexpected '\(characters[position])'"
            return CalculatorError("\(description) at character \(position + 1) of the expression")
        }

        private func checkDepth(_ depth: Int) throws(CalculatorError) {
            if depth > CalculatorExpression.maximumDepth {
                throw CalculatorError("the expression is nested more than \(CalculatorExpression.maximumDepth) levels deep")
            }
        }

        /// sum := product (('+' | '-') product)*
        mutating func sum(depth: Int) throws(CalculatorError) -> ExactFraction {
            var value = try product(depth: depth)
            while let symbol = take(["+", "-"]) {
                let right = try product(depth: depth)
                value = symbol == "+" ? try value + right : try value - right
            }
            return value
        }

        /// product := unary (('*' | '/' | '%' | '×' | '÷') unary)*
        mutating func product(depth: Int) throws(CalculatorError) -> ExactFraction {
            var value = try unary(depth: depth)
            while let symbol = take(["*", "/", "%", "×", "÷"]) {
                let right = try unary(depth: depth)
                switch symbol {
                case "*", "×": value = try value * right
                case "%": value = try value % right
                default: value = try value / right
                }
            }
            return value
        }

        /// unary := ('-' | '+') unary | power
        mutating func unary(depth: Int) throws(CalculatorError) -> ExactFraction {
            try checkDepth(depth)
            if let symbol = take(["-", "+"]) {
                let value = try unary(depth: depth + 1)
                return symbol == "-" ? try -value : value
            }
            return try power(depth: depth)
        }

        /// power := primary (('^' | '**') unary)?
        mutating func power(depth: Int) throws(CalculatorError) -> ExactFraction {
            let base = try primary(depth: depth)
            guard take(["**", "^"]) != nil else { return base }
            return try base.power(try unary(depth: depth + 1))
        }

        /// primary := number | '(' sum ')'
        mutating func primary(depth: Int) throws(CalculatorError) -> ExactFraction {
            skipSpaces()
            let start = position
            if take(["("]) != nil {
                try checkDepth(depth + 1)
                let value = try sum(depth: depth + 1)
                guard take([")"]) != nil else {
                    if position < characters.count { throw unexpected("expected ')' (for the '(' at character \(start + 1)) but found '\(characters[position])'") }
                    throw CalculatorError("missing ')' for the '(' at character \(start + 1)")
                }
                return value
            }
            return try number()
        }

        /// number := digits ('.' digits?)? | '.' digits
        mutating func number() throws(CalculatorError) -> ExactFraction {
            let start = position
            var numerator = 0, denominator = 1, digits = 0, seenPoint = false
            while position < characters.count {
                let character = characters[position]
                if character == "." && !seenPoint {
                    seenPoint = true
                } else if let digit = character.wholeNumberValue, character.isASCII {
                    let (shifted, overflow) = numerator.multipliedReportingOverflow(by: 10)
                    let (sum, overflowSum) = shifted.addingReportingOverflow(digit)
                    guard !overflow, !overflowSum else {
                        throw CalculatorError("the number at character \(start + 1) has too many digits (at most 18)")
                    }
                    numerator = sum
                    digits += 1
                    if seenPoint {
                        let (scaled, overflowScale) = denominator.multipliedReportingOverflow(by: 10)
                        guard !overflowScale else { throw CalculatorError("the number at character \(start + 1) has too many digits (at most 18)") }
                        denominator = scaled
                    }
                } else {
                    break
                }
                position += 1
            }
            guard digits > 0 else {
                position = start
                throw unexpected(position < characters.count ? "expected a number or '(' but found '\(characters[position])'" : nil)
            }
            return try ExactFraction(numerator: numerator, denominator: denominator)
        }
    }
}
