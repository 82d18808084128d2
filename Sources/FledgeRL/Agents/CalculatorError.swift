/// Why the calculator could not evaluate an expression; the message is what the model reads.
public struct CalculatorError: Error, CustomStringConvertible, Equatable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
