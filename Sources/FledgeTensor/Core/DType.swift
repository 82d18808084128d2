/// The element types a tensor can have on disk, named as safetensors names them.
///
/// Compute is always float32 (`Tensor`); the other floating-point types exist only at load
/// and store (see `DType.convertToFloat16(_:into:)` and friends), and the integer types
/// only for index-like data such as token ids.
public enum DType: String, Sendable, CaseIterable {
    /// IEEE 754 single precision, the compute type.
    case float32 = "F32"
    /// IEEE 754 half precision (5 exponent bits, 10 mantissa bits; largest finite 65504).
    case float16 = "F16"
    /// bfloat16: float32's top 16 bits (8 exponent bits, 7 mantissa bits).
    case bfloat16 = "BF16"
    /// IEEE 754 double precision (loaded by rounding to float32).
    case float64 = "F64"
    /// Signed 64-bit integers (token ids, positions).
    case int64 = "I64"
    /// Signed 32-bit integers.
    case int32 = "I32"
    /// Signed 16-bit integers.
    case int16 = "I16"
    /// Signed 8-bit integers.
    case int8 = "I8"
    /// Unsigned 8-bit integers.
    case uint8 = "U8"
    /// Booleans, one byte each (0 or 1).
    case bool = "BOOL"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .float64, .int64: 8
        case .float32, .int32: 4
        case .float16, .bfloat16, .int16: 2
        case .int8, .uint8, .bool: 1
        }
    }

    /// Whether elements are floating-point numbers (loaded as a float32 `Tensor`); the
    /// others are integers or booleans (loaded as `[Int]`).
    public var isFloatingPoint: Bool {
        switch self {
        case .float32, .float16, .bfloat16, .float64: true
        case .int64, .int32, .int16, .int8, .uint8, .bool: false
        }
    }

    /// The range of values an integer dtype can hold (`nil` for floating-point dtypes).
    public var integerRange: ClosedRange<Int>? {
        switch self {
        case .int64: Int(Int64.min)...Int(Int64.max)
        case .int32: Int(Int32.min)...Int(Int32.max)
        case .int16: Int(Int16.min)...Int(Int16.max)
        case .int8: Int(Int8.min)...Int(Int8.max)
        case .uint8: 0...Int(UInt8.max)
        case .bool: 0...1
        case .float32, .float16, .bfloat16, .float64: nil
        }
    }
}
