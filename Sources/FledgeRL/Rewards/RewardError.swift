/// A reward function that could not score a batch, or a reward setting that cannot work; the
/// message names the function, command, column or value at fault and what would fix it.
public struct RewardError: Error, CustomStringConvertible, Equatable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
