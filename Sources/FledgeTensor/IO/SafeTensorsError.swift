/// Why a safetensors file could not be read or written.
///
/// Every case names the file (its path) and, where one is at fault, the tensor; the
/// `description` says what is wrong and, where it can, how to fix it.
public enum SafeTensorsError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened, mapped or written.
    case io(file: String, reason: String)
    /// The file is shorter than the 8-byte header length every safetensors file starts with.
    case tooShort(file: String, byteCount: Int)
    /// The header length (the first 8 bytes) points past the end of the file.
    case headerPastEnd(file: String, headerLength: UInt64, fileSize: Int)
    /// The header is not a UTF-8 JSON object.
    case invalidHeader(file: String, reason: String)
    /// A header entry lacks a field or has one of the wrong type or value.
    case invalidEntry(file: String, tensor: String, field: String, problem: String)
    /// A tensor's dtype is not one Fledge reads or writes.
    case unsupportedDType(file: String, tensor: String, dtype: String)
    /// A tensor's byte range does not hold exactly `shape`'s elements of `dtype`
    /// (`expected` is nil when that size does not even fit in an `Int`).
    case byteCountMismatch(file: String, tensor: String, dtype: DType, shape: [Int], expected: Int?, actual: Int)
    /// A tensor's byte range ends after the data section.
    case pastEnd(file: String, tensor: String, end: Int, dataLength: Int)
    /// Two tensors share bytes.
    case overlap(file: String, tensor: String, other: String)
    /// Bytes of the data section belong to no tensor.
    case hole(file: String, bytes: Range<Int>, after: String?)
    /// No tensor has the requested name; `suggestions` are names that do exist.
    case notFound(file: String, tensor: String, suggestions: [String], total: Int)
    /// A float tensor was read as integers, or the other way round.
    case wrongKind(file: String, tensor: String, dtype: DType)
    /// A tensor could not be written as asked.
    case invalidTensor(file: String, tensor: String, problem: String)

    /// What went wrong, naming the file and the tensor or field, and how to fix it.
    public var description: String {
        switch self {
        case let .io(file, reason):
            return "\(file): \(reason)"
        case let .tooShort(file, byteCount):
            return "\(file): the file has \(byteCount) bytes, too few for a safetensors file, which starts with an "
                + "8-byte header length; the file is truncated or not a safetensors file (download or save it again)"
        case let .headerPastEnd(file, headerLength, fileSize):
            return "\(file): the header length says \(headerLength) bytes, but only \(max(fileSize - 8, 0)) bytes follow "
                + "it; the file is truncated or not a safetensors file (download or save it again)"
        case let .invalidHeader(file, reason):
            return "\(file): the header is not valid: \(reason)"
        case let .invalidEntry(file, tensor, field, problem):
            return "\(file): tensor '\(tensor)': field '\(field)' \(problem)"
        case let .unsupportedDType(file, tensor, dtype):
            let known = DType.allCases.map(\.rawValue).joined(separator: ", ")
            return "\(file): tensor '\(tensor)' has dtype '\(dtype)', which Fledge cannot read or write "
                + "(supported: \(known)); convert the file to one of these"
        case let .byteCountMismatch(file, tensor, dtype, shape, expected, actual):
            let needed = expected.map { "\($0) bytes" } ?? "more bytes than fit in memory"
            return "\(file): tensor '\(tensor)' (dtype \(dtype.rawValue), shape \(shape)) needs \(needed), "
                + "but its data_offsets span \(actual) bytes; the header is corrupt"
        case let .pastEnd(file, tensor, end, dataLength):
            return "\(file): tensor '\(tensor)': data_offsets end at byte \(end), past the end of the data section "
                + "(\(dataLength) bytes); the file is truncated (download or save it again)"
        case let .overlap(file, tensor, other):
            return "\(file): tensors '\(other)' and '\(tensor)' overlap in the data section (data_offsets); the header is corrupt"
        case let .hole(file, bytes, after):
            let position = after.map { "after tensor '\($0)'" } ?? "before the first tensor"
            return "\(file): bytes \(bytes.lowerBound)..<\(bytes.upperBound) of the data section (\(position)) belong to "
                + "no tensor; safetensors requires the tensors to cover the data section without gaps"
        case let .notFound(file, tensor, suggestions, total):
            let listed = suggestions.map { "'\($0)'" }.joined(separator: ", ")
            let more = total > suggestions.count ? ", …" : ""
            return "\(file): no tensor named '\(tensor)'; the file has \(total) tensors"
                + (total == 0 ? "" : ", for example \(listed)\(more)")
        case let .wrongKind(file, tensor, dtype):
            let use = dtype.isFloatingPoint ? "tensor(_:)" : "integers(_:)"
            let kind = dtype.isFloatingPoint ? "floating-point" : "integer"
            return "\(file): tensor '\(tensor)' has \(kind) dtype \(dtype.rawValue); read it with \(use)"
        case let .invalidTensor(file, tensor, problem):
            return "\(file): cannot write tensor '\(tensor)': \(problem)"
        }
    }
}
