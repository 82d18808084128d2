/// A field value that a ``ConfigRange`` can check: a number, an optional number (`null` is always
/// accepted: it means "not set"), or a list of numbers (each item is checked).
public protocol ConfigNumbers: ConfigRepresentable {
    /// The numbers the value holds, in order.
    var configNumbers: [Double] { get }
    /// Whether the value is a list, whose messages name the item at fault.
    static var isConfigList: Bool { get }
}

extension ConfigNumbers {
    public static var isConfigList: Bool { false }
}

extension Int: ConfigNumbers {
    public var configNumbers: [Double] { [Double(self)] }
}

extension Double: ConfigNumbers {
    public var configNumbers: [Double] { [self] }
}

extension Optional: ConfigNumbers where Wrapped: ConfigNumbers {
    public var configNumbers: [Double] { self?.configNumbers ?? [] }
    public static var isConfigList: Bool { Wrapped.isConfigList }
}

extension Array: ConfigNumbers where Element: ConfigNumbers {
    public var configNumbers: [Double] { flatMap(\.configNumbers) }
    public static var isConfigList: Bool { true }
}
