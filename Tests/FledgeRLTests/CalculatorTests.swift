import XCTest
@testable import FledgeRL

/// The built-in calculator: exact integer and decimal arithmetic with Python's precedence, and a clear message —
/// never a crash — for anything it cannot evaluate.
final class CalculatorTests: XCTestCase {
    func testExactArithmetic() throws {
        let cases: [(String, String)] = [
            ("6*7", "42"), ("12 * (3.5 + 4)", "90"), ("0.1 + 0.2", "0.3"), ("1/4", "0.25"), ("1/3", "1/3"),
            ("-2^2", "-4"), ("(-2)^2", "4"), ("2^3^2", "512"), ("2**10", "1024"), ("2^-2", "0.25"), ("-7 % 3", "2"),
            ("7 % -3", "-2"), ("10 ÷ 4", "2.5"), ("3 × 4", "12"), ("1.50", "1.5"), (".5 + 5.", "5.5"), ("--3", "3"),
            ("2 - 3 - 4", "-5"), ("100 / 10 / 5", "2"), ("123456789 * 987654321", "121932631112635269"),
            ("-1/8", "-0.125"), ("0^0", "1"), ("  42  ", "42"), ("(((1)))", "1"), ("2/3*3", "2"), ("1/3 + 1/6", "0.5"),
        ]
        for (expression, expected) in cases {
            XCTAssertEqual(try CalculatorExpression.evaluate(expression), expected, expression)
        }
    }

    func testErrorsSayWhatIsWrong() {
        let cases: [(String, String)] = [
            ("", "the expression is empty"), ("1 +", "the expression ends where a number was expected"),
            ("2 * x", "expected a number or '(' but found 'x' at character 5"), ("1/0", "division by zero"),
            ("5 % 0", "modulo by zero"), ("(1 + 2", "missing ')' for the '(' at character 1"),
            ("1 + 2)", "')' without a matching '(' at character 6"), ("2^0.5", "exponents must be whole numbers"),
            ("1.5 % 1", "% needs whole numbers"), ("9223372036854775807 + 1", "does not fit"),
            ("2^100", "does not fit"), ("1234567890123456789012", "too many digits"), ("0^-1", "division by zero"),
            ("1 2", "unexpected '2' at character 3"), ("1..2", "unexpected '.' at character 3"),
            (String(repeating: "(", count: 500) + "1" + String(repeating: ")", count: 500), "nested more than 100 levels"),
            (String(repeating: "-", count: 500) + "1", "nested more than 100 levels"),
            (String(repeating: "1+", count: 6000) + "1", "at most 10000 are evaluated"),
        ]
        for (expression, message) in cases {
            XCTAssertThrowsError(try CalculatorExpression.evaluate(expression), expression.prefix(40).description) { error in
                XCTAssert("\(error)".contains(message), "\(expression.prefix(40)): \(error)")
            }
        }
    }

    func testTheToolAnswersCallsAndFailures() throws {
        let calculator = Calculator()
        XCTAssertEqual(calculator.definition["function"]?["name"], .string("calculator"))
        XCTAssertEqual(try calculator.call(arguments: ["expression": "2+2"]), ToolOutcome(text: "4"))
        XCTAssertEqual(try calculator.call(arguments: ["expression": "1/0"]),
                       ToolOutcome(text: "{'error': 'division by zero'}", failed: true))
        for arguments: JSONValue in [["expr": "2+2"], ["expression": 4], "2+2", ["expression": "1", "x": 1]] {
            let outcome = try calculator.call(arguments: arguments)
            XCTAssertTrue(outcome.failed)
            XCTAssert(outcome.text.contains("calculator takes one argument"), outcome.text)
        }
    }
}
