import FledgeRL
import FuzzSupport

/// An arithmetic expression as a model writes it, evaluated by the built-in calculator: a value or a
/// `CalculatorError`, never a trap (overflow, nesting, long input), and the tool wraps either as an outcome.
func fuzzCalculator(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let expression = String(decoding: fuzzInput(data, size), as: UTF8.self)
    _ = try? CalculatorExpression.evaluate(expression)
    _ = try? Calculator().call(arguments: .object(JSONObject([("expression", .string(expression))])))
    return 0
}

runFuzzer(fuzzCalculator)
