/// The built-in `calculator` tool (a `tools` entry `calculator`): exact arithmetic on integers and decimals
/// (`CalculatorExpression`), so that examples need no program of their own. A call is
/// `{"name": "calculator", "arguments": {"expression": "12 * (3.5 + 4)"}}`; its result is the value's text (`90`),
/// or a failed call whose message says what is wrong with the expression.
public struct Calculator: Tool {
    public let name = "calculator"

    public init() {}

    public var definition: JSONValue {
        let expression = JSONObject([
            ("type", "string"),
            ("description", "The expression, e.g. \"12 * (3.5 + 4)\": integers and decimals, + - * / % ^ and parentheses."),
        ])
        let parameters = JSONObject([
            ("type", "object"), ("properties", .object(JSONObject([("expression", .object(expression))]))),
            ("required", .array(["expression"])),
        ])
        let function = JSONObject([
            ("name", .string(name)),
            ("description", "Evaluates an arithmetic expression exactly and returns its value."),
            ("parameters", .object(parameters)),
        ])
        return .object(JSONObject([("type", "function"), ("function", .object(function))]))
    }

    public func call(arguments: JSONValue) throws -> ToolOutcome {
        guard case .object(let object) = arguments, object.count == 1, case .string(let expression)? = object["expression"] else {
            return .failure("calculator takes one argument, a string: {\"expression\": \"12 * (3.5 + 4)\"}; it was given "
                + JSONWriter().string(arguments))
        }
        do {
            return ToolOutcome(text: try CalculatorExpression.evaluate(expression))
        } catch {
            return .failure(error.message)
        }
    }
}
