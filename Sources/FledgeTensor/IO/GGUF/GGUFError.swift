/// Why a GGUF file could not be read.
///
/// Every case names the file and, where one is at fault, the metadata key or the tensor; the
/// `description` says what is wrong and, where it can, how to fix it.
public enum GGUFError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened or mapped.
    case io(file: String, reason: String)
    /// The file does not start with the GGUF magic.
    case notGGUF(file: String, found: [UInt8])
    /// The header's version is not 2 or 3.
    case unsupportedVersion(file: String, version: UInt32)
    /// The file ends before `what` (at byte `offset`, needing `needed` bytes) is complete.
    case truncated(file: String, what: String, offset: Int, needed: UInt64, fileSize: Int)
    /// A metadata entry is malformed: `key` is the entry's key (or its position while the key
    /// itself is unreadable).
    case invalidMetadata(file: String, key: String, problem: String)
    /// A tensor's info is malformed or its data lies outside the file.
    case invalidTensor(file: String, tensor: String, problem: String)
    /// A metadata value has another type than the one the reader needs.
    case wrongMetadataType(file: String, key: String, expected: String, found: String)
    /// A metadata key the reader needs is absent.
    case missingMetadata(file: String, key: String, hint: String)
    /// A tensor is stored in a GGML type Fledge cannot (yet) turn into float32.
    case unsupportedTensorType(file: String, tensor: String, type: String, supported: [String])
    /// No tensor has the requested name.
    case tensorNotFound(file: String, tensor: String)

    /// What went wrong, naming the file and the key or tensor, and how to fix it.
    public var description: String {
        switch self {
        case let .io(file, reason):
            return "\(file): \(reason)"
        case let .notGGUF(file, found):
            let bytes = found.map { String($0, radix: 16) }.joined(separator: " ")
            return "\(file): not a GGUF file: it starts with bytes [\(bytes)], not the magic 'GGUF' (47 47 55 46)"
        case let .unsupportedVersion(file, version):
            return "\(file): GGUF version \(version) is not supported; Fledge reads versions 2 and 3 "
                + "(convert the model again with a current llama.cpp)"
        case let .truncated(file, what, offset, needed, fileSize):
            return "\(file): the file ends (\(fileSize) bytes) before \(what): it needs \(needed) bytes at byte \(offset); "
                + "the file is truncated or corrupt (download it again)"
        case let .invalidMetadata(file, key, problem):
            return "\(file): metadata '\(key)': \(problem)"
        case let .invalidTensor(file, tensor, problem):
            return "\(file): tensor '\(tensor)': \(problem)"
        case let .wrongMetadataType(file, key, expected, found):
            return "\(file): metadata '\(key)' must be \(expected), found \(found)"
        case let .missingMetadata(file, key, hint):
            return "\(file): metadata '\(key)' is missing; \(hint)"
        case let .unsupportedTensorType(file, tensor, type, supported):
            return "\(file): tensor '\(tensor)' is stored as \(type), which Fledge cannot read yet "
                + "(it reads \(supported.joined(separator: ", "))); convert the model with one of these types"
        case let .tensorNotFound(file, tensor):
            return "\(file): no tensor named '\(tensor)'"
        }
    }
}
