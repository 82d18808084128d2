import Foundation

/// Writes a GGUF version 3 file, as gguf-py's `GGUFWriter` lays it out: the header, the metadata
/// entries in the order added, every tensor's info, then the tensors' data, each starting at a
/// multiple of `alignment` (32, GGUF's default, so no `general.alignment` key is written).
///
/// Tensors are encoded only when the file is written: F32, F16 and BF16 by conversion, and the
/// block types whose formats quantize (`QuantizingBlockFormat`: Q8_0, Q4_0, Q4_K) block by block.
public struct GGUFWriter {
    /// The alignment of the tensor data.
    public static let alignment = 32

    private var metadata: [(key: String, value: GGUFValue)] = []
    private var tensors: [(name: String, tensor: Tensor, type: GGMLType)] = []

    public init() {}

    /// Adds the metadata entry `key`; a key added twice is a programming error.
    public mutating func add(_ key: String, _ value: GGUFValue) {
        precondition(!metadata.contains { $0.key == key }, "GGUF metadata key '\(key)' added twice")
        metadata.append((key, value))
    }

    /// Adds `tensor` (row-major, as Fledge and PyTorch shape it) under `name`, to be stored as `type`.
    /// Throws when the type cannot be written, a row is not a whole number of its blocks, or a
    /// block type is given a value that is not finite.
    public mutating func add(_ name: String, _ tensor: Tensor, as type: GGMLType) throws(GGUFError) {
        guard type.isWritable else {
            throw .unsupportedTensorType(file: "(writing)", tensor: name, type: type.name, supported: GGMLType.writableNames)
        }
        guard let columns = tensor.shape.last, columns % type.valuesPerBlock == 0 else {
            throw .invalidTensor(file: "(writing)", tensor: name, problem: "has rows of \(tensor.shape.last ?? 0) values, not a "
                + "multiple of the \(type.valuesPerBlock)-value blocks of \(type.name)")
        }
        if case .blocks = type.storage, let bad = tensor.contiguous().toArray().firstIndex(where: { !$0.isFinite }) {
            throw .invalidTensor(file: "(writing)", tensor: name, problem: "value \(bad) is not finite; \(type.name) blocks store finite values only")
        }
        precondition(!tensors.contains { $0.name == name }, "GGUF tensor '\(name)' added twice")
        tensors.append((name, tensor, type))
    }

    /// Writes the file to `url` (through a temporary file renamed into place).
    public func write(to url: URL) throws {
        let output = try FileOutput(path: url.path)
        var header = GGUFBytes()
        header.append(contentsOf: Array("GGUF".utf8))
        header.append(UInt32(3))
        header.append(UInt64(tensors.count))
        header.append(UInt64(metadata.count))
        for (key, value) in metadata {
            header.append(key)
            header.append(value.type.rawValue)
            header.append(value)
        }
        var offset = 0
        for (name, tensor, type) in tensors {
            header.append(name)
            header.append(UInt32(tensor.shape.count))
            for size in tensor.shape.reversed() { header.append(UInt64(size)) }
            header.append(type.code)
            header.append(UInt64(offset))
            offset = Self.aligned(offset + tensor.count / type.valuesPerBlock * type.bytesPerBlock)
        }
        header.pad(to: Self.alignment)
        try header.bytes.withUnsafeBytes { try output.append($0) }
        for (_, tensor, type) in tensors {
            var data = type.encode(tensor)
            data.append(contentsOf: [UInt8](repeating: 0, count: Self.aligned(data.count) - data.count))
            try data.withUnsafeBytes { try output.append($0) }
        }
        try output.commit()
    }

    private static func aligned(_ offset: Int) -> Int { (offset + alignment - 1) / alignment * alignment }
}

/// The little-endian bytes of a GGUF header under construction.
private struct GGUFBytes {
    var bytes: [UInt8] = []

    mutating func append(contentsOf other: [UInt8]) { bytes.append(contentsOf: other) }

    mutating func append<Value: FixedWidthInteger>(_ value: Value) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(_ string: String) {
        append(UInt64(string.utf8.count))
        bytes.append(contentsOf: Array(string.utf8))
    }

    /// A value without its type code (an array's elements share theirs).
    mutating func append(_ value: GGUFValue) {
        switch value {
        case .uint8(let v): append(v)
        case .int8(let v): append(v)
        case .uint16(let v): append(v)
        case .int16(let v): append(v)
        case .uint32(let v): append(v)
        case .int32(let v): append(v)
        case .uint64(let v): append(v)
        case .int64(let v): append(v)
        case .float32(let v): append(v.bitPattern)
        case .float64(let v): append(v.bitPattern)
        case .bool(let v): append(UInt8(v ? 1 : 0))
        case .string(let v): append(v)
        case .array(let element, let values):
            precondition(values.allSatisfy { $0.type == element }, "a GGUF array's elements all have its element type")
            append(element.rawValue)
            append(UInt64(values.count))
            for element in values { append(element) }
        }
    }

    mutating func pad(to alignment: Int) {
        bytes.append(contentsOf: [UInt8](repeating: 0, count: (alignment - bytes.count % alignment) % alignment))
    }
}
