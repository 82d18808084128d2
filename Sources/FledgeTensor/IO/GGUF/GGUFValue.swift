/// A GGUF metadata value: one of the format's scalar types, a string or an array of one type.
public indirect enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String)
    /// An array whose elements all have the type `element`.
    case array(element: GGUFValueType, values: [GGUFValue])

    /// The value's type.
    public var type: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .uint64: .uint64
        case .int64: .int64
        case .float32: .float32
        case .float64: .float64
        case .bool: .bool
        case .string: .string
        case .array: .array
        }
    }

    /// The value as an `Int` when it is an integer of any width that fits.
    public var integer: Int? {
        switch self {
        case .uint8(let value): Int(value)
        case .int8(let value): Int(value)
        case .uint16(let value): Int(value)
        case .int16(let value): Int(value)
        case .uint32(let value): Int(value)
        case .int32(let value): Int(value)
        case .uint64(let value): Int(exactly: value)
        case .int64(let value): Int(exactly: value)
        default: nil
        }
    }

    /// The value as a `Double` when it is a number (integer or float).
    public var number: Double? {
        switch self {
        case .float32(let value): Double(value)
        case .float64(let value): value
        default: integer.map(Double.init)
        }
    }

    /// A short description for error messages: the type and, for scalars, the value.
    public var summary: String {
        switch self {
        case .string(let text): "string \"\(text.prefix(40))\(text.count > 40 ? "…" : "")\""
        case .array(let element, let values): "array of \(values.count) \(element)"
        case .bool(let flag): "bool \(flag)"
        default: "\(type) \(number.map { String(describing: $0) } ?? "")"
        }
    }
}

/// The type codes of GGUF metadata values.
public enum GGUFValueType: UInt32, Sendable, CustomStringConvertible {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7, string = 8
    case array = 9, uint64 = 10, int64 = 11, float64 = 12

    /// The size of a scalar of this type; for strings, the smallest (an empty one's length field),
    /// and for arrays the smallest (an empty one's type and count).
    var minimumSize: Int {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64, .string: 8
        case .array: 12
        }
    }

    public var description: String {
        switch self {
        case .uint8: "uint8"
        case .int8: "int8"
        case .uint16: "uint16"
        case .int16: "int16"
        case .uint32: "uint32"
        case .int32: "int32"
        case .float32: "float32"
        case .bool: "bool"
        case .string: "string"
        case .array: "array"
        case .uint64: "uint64"
        case .int64: "int64"
        case .float64: "float64"
        }
    }
}
