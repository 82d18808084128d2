import Foundation

/// Where one tensor lives in a safetensors file.
public struct SafeTensorInfo: Sendable, Equatable {
    /// The tensor's name in the header.
    public let name: String
    /// The element type stored on disk.
    public let dtype: DType
    /// The size of each dimension (empty for a scalar).
    public let shape: [Int]
    /// The tensor's bytes, relative to the start of the data section (after the header).
    public let byteRange: Range<Int>

    /// The number of elements.
    public var count: Int { shape.reduce(1, *) }
}

/// The parsed and validated JSON header of a safetensors file.
///
/// Layout: an 8-byte little-endian header length `N`, `N` bytes of UTF-8 JSON (an object
/// mapping each tensor name to `{"dtype", "shape", "data_offsets": [begin, end]}`, plus an
/// optional `"__metadata__"` object of strings), then the data section. Validation follows
/// the reference library: every entry is well-formed, its byte length is exactly
/// `product(shape) * dtype size`, and the tensors, sorted by offset, tile the data section
/// from 0 to its end with no overlap and no gap.
struct SafeTensorsHeader {
    /// The header key that holds free-form string metadata rather than a tensor.
    static let metadataKey = "__metadata__"

    var tensors: [String: SafeTensorInfo]
    var metadata: [String: String]
    /// Offset of the data section from the start of the file.
    var dataStart: Int

    /// Parses and validates the header of a whole file's bytes.
    init(file: String, bytes: UnsafeRawBufferPointer) throws(SafeTensorsError) {
        guard bytes.count >= 8 else { throw .tooShort(file: file, byteCount: bytes.count) }
        let headerLength = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw .headerPastEnd(file: file, headerLength: headerLength, fileSize: bytes.count)
        }
        dataStart = 8 + Int(headerLength)
        let json = UnsafeRawBufferPointer(rebasing: bytes[8..<dataStart])
        let top = try Self.decodeObject(json, file: file)

        tensors = [:]
        metadata = [:]
        // The JSON reader rejects a name given twice; names that differ only in Unicode normalization
        // are different JSON keys but one Swift `String`, so they are caught here.
        for (name, value) in top.entries.sorted(by: { $0.key < $1.key }) {
            if name == Self.metadataKey {
                metadata = try Self.parseMetadata(value, file: file)
            } else {
                guard tensors[name] == nil else {
                    throw .invalidHeader(file: file, reason: "tensor '\(name)' is listed twice (two names differ only in Unicode "
                        + "normalization); the file is corrupt")
                }
                tensors[name] = try Self.parseEntry(name, value, file: file)
            }
        }
        try Self.checkLayout(Array(tensors.values), dataLength: bytes.count - dataStart, file: file)
    }

    private static func decodeObject(_ json: UnsafeRawBufferPointer, file: String) throws(SafeTensorsError) -> JSONObject {
        guard String(validating: json, as: UTF8.self) != nil else {
            throw .invalidHeader(file: file, reason: "it is not UTF-8 text; the file is corrupt or not a safetensors file")
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(Array(json))
        } catch {
            throw .invalidHeader(file: file, reason: "it is not valid JSON (\(error)); the file is corrupt or not a safetensors file")
        }
        guard case .object(let top) = value else {
            throw .invalidHeader(file: file, reason: "it is \(value.kind), not a JSON object of tensor entries")
        }
        return top
    }

    private static func parseMetadata(_ value: JSONValue, file: String) throws(SafeTensorsError) -> [String: String] {
        if value == .null { return [:] }
        guard case .object(let fields) = value else {
            throw .invalidHeader(file: file, reason: "'\(metadataKey)' is \(value.kind), not an object of strings")
        }
        var result: [String: String] = [:]
        for (key, field) in fields.entries {
            guard case .string(let text) = field else {
                throw .invalidHeader(file: file, reason: "'\(metadataKey)' entry '\(key)' is \(field.kind), not a string")
            }
            result[key] = text
        }
        return result
    }

    private static func parseEntry(_ name: String, _ value: JSONValue, file: String) throws(SafeTensorsError) -> SafeTensorInfo {
        func invalid(_ field: String, _ problem: String) -> SafeTensorsError {
            .invalidEntry(file: file, tensor: name, field: field, problem: problem)
        }
        guard case .object(let fields) = value else {
            throw .invalidHeader(file: file, reason: "entry '\(name)' is \(value.kind), not an object with dtype, shape and data_offsets")
        }
        guard let dtypeValue = fields["dtype"] else { throw invalid("dtype", "is missing") }
        guard case .string(let dtypeName) = dtypeValue else { throw invalid("dtype", "is \(dtypeValue.kind), not a string such as \"F32\"") }
        guard let dtype = DType(rawValue: dtypeName) else {
            throw .unsupportedDType(file: file, tensor: name, dtype: dtypeName)
        }
        let shape = try integers(fields["shape"], invalid: { problem in invalid("shape", problem) })
        let offsets = try integers(fields["data_offsets"], invalid: { problem in invalid("data_offsets", problem) })
        guard offsets.count == 2, offsets[0] <= offsets[1] else {
            throw invalid("data_offsets", "is \(offsets), not [begin, end] with begin <= end")
        }
        let byteRange = offsets[0]..<offsets[1]
        guard let count = Shape.checkedCount(shape) else {
            throw invalid("shape", "is \(shape), whose dimensions multiply past 2^63 elements; the header is corrupt")
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        let expected = overflow ? nil : byteCount
        guard expected == byteRange.count else {
            throw .byteCountMismatch(file: file, tensor: name, dtype: dtype, shape: shape, expected: expected, actual: byteRange.count)
        }
        return SafeTensorInfo(name: name, dtype: dtype, shape: shape, byteRange: byteRange)
    }

    /// An array of non-negative integers, or the error `invalid` makes from a problem.
    private static func integers(
        _ value: JSONValue?, invalid: (String) -> SafeTensorsError
    ) throws(SafeTensorsError) -> [Int] {
        guard let value else { throw invalid("is missing") }
        guard case .array(let elements) = value else { throw invalid("is \(value.kind), not an array of integers") }
        return try elements.map { element throws(SafeTensorsError) in
            guard case .int(let number) = element else { throw invalid("holds \(element.kind), not an integer") }
            guard number >= 0 else { throw invalid("holds \(number); it must not be negative") }
            return number
        }
    }

    /// Sorted by offset, the tensors must tile `0..<dataLength` exactly.
    private static func checkLayout(_ infos: [SafeTensorInfo], dataLength: Int, file: String) throws(SafeTensorsError) {
        if let late = infos.filter({ $0.byteRange.upperBound > dataLength }).min(by: { $0.name < $1.name }) {
            throw .pastEnd(file: file, tensor: late.name, end: late.byteRange.upperBound, dataLength: dataLength)
        }
        let sorted = infos.sorted {
            ($0.byteRange.lowerBound, $0.byteRange.upperBound, $0.name) < ($1.byteRange.lowerBound, $1.byteRange.upperBound, $1.name)
        }
        var cursor = 0
        var previous: SafeTensorInfo?
        for info in sorted {
            if info.byteRange.lowerBound < cursor, let previous {
                throw .overlap(file: file, tensor: info.name, other: previous.name)
            }
            if info.byteRange.lowerBound > cursor {
                throw .hole(file: file, bytes: cursor..<info.byteRange.lowerBound, after: previous?.name)
            }
            cursor = info.byteRange.upperBound
            previous = info
        }
        if cursor < dataLength {
            throw .hole(file: file, bytes: cursor..<dataLength, after: previous?.name)
        }
    }
}
