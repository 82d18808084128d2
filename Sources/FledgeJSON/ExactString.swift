/// A string compared and hashed by its exact Unicode scalars, as Python and Rust compare strings.
///
/// Swift's `String` equality is canonical equivalence, so `"é"` (U+00E9) equals `"e\u{301}"`:
/// a vocabulary keyed by `String` would merge two distinct tokens. Every dictionary of tokens or
/// JSON keys uses this wrapper instead.
public struct ExactString: Hashable, Sendable {
    /// The wrapped string.
    public let value: String

    /// Wraps `value`.
    public init(_ value: String) { self.value = value }

    public static func == (left: ExactString, right: ExactString) -> Bool {
        var a = left.value
        var b = right.value
        return a.withUTF8 { first in
            b.withUTF8 { second in first.count == second.count && first.elementsEqual(second) }
        }
    }

    public func hash(into hasher: inout Hasher) {
        var value = value
        value.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
