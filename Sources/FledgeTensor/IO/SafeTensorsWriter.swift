import Foundation

/// Writes tensors to a safetensors file that Hugging Face's `safetensors` library (and so
/// PyTorch, transformers and PEFT) can read.
///
/// The header is compact JSON padded with spaces to a multiple of 8 bytes, so that the data
/// section is 8-byte aligned; tensors follow in the order given, with no gaps. The file is
/// written under a temporary name and moved into place at the end, so a failed write never
/// leaves a partial file at `url`.
public enum SafeTensorsWriter {
    /// One tensor to write and the dtype to store it as.
    public enum Entry: Sendable {
        /// A float tensor, stored as `dtype` (F32, F16 or BF16, rounding to nearest even; or F64).
        case float(Tensor, DType)
        /// Row-major integers of the given shape, stored as `dtype` (I64, I32, I16, I8, U8
        /// or BOOL); each value must fit the dtype.
        case integers([Int], shape: [Int], DType)

        var dtype: DType {
            switch self {
            case .float(_, let dtype), .integers(_, _, let dtype): dtype
            }
        }

        var shape: [Int] {
            switch self {
            case .float(let tensor, _): tensor.shape
            case .integers(_, let shape, _): shape
            }
        }
    }

    /// Writes float tensors, all stored as `dtype` (F32, F16, BF16 or F64), with optional
    /// string `metadata` (the header's `__metadata__`).
    public static func write(
        _ tensors: [(name: String, tensor: Tensor)], dtype: DType = .float32,
        metadata: [String: String] = [:], to url: URL
    ) throws {
        try write(tensors.map { (name: $0.name, entry: Entry.float($0.tensor, dtype)) }, metadata: metadata, to: url)
    }

    /// Writes float and integer tensors, each as its entry's dtype, with optional string
    /// `metadata` (the header's `__metadata__`). Names must be unique.
    public static func write(
        _ entries: [(name: String, entry: Entry)], metadata: [String: String] = [:], to url: URL
    ) throws {
        let file = url.path
        try validate(entries, file: file)
        let output = try FileOutput(path: file)
        var header = Array(headerJSON(entries, metadata: metadata).utf8)
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))
        var length = UInt64(header.count).littleEndian
        try withUnsafeBytes(of: &length) { bytes in try output.append(bytes) }
        try header.withUnsafeBytes { bytes in try output.append(bytes) }
        for (_, entry) in entries {
            switch entry {
            case let .float(tensor, dtype):
                try tensor.withUnsafeElements { values in try writeFloats(values, as: dtype, to: output) }
            case let .integers(values, _, dtype):
                try writeIntegers(values, as: dtype, to: output)
            }
        }
        try output.commit()
    }

    private static func validate(_ entries: [(name: String, entry: Entry)], file: String) throws(SafeTensorsError) {
        var seen: Set<String> = []
        for (name, entry) in entries {
            func invalid(_ problem: String) -> SafeTensorsError { .invalidTensor(file: file, tensor: name, problem: problem) }
            guard name != SafeTensorsHeader.metadataKey else { throw invalid("the name is reserved for metadata; pass it as metadata") }
            guard seen.insert(name).inserted else { throw invalid("the name appears more than once; tensor names must be unique") }
            switch entry {
            case let .float(_, dtype):
                guard dtype.isFloatingPoint else {
                    throw invalid("a float tensor cannot be stored as \(dtype.rawValue); use F32, F16, BF16 or F64, or an .integers entry")
                }
            case let .integers(values, shape, dtype):
                guard let range = dtype.integerRange else {
                    throw invalid("integers cannot be stored as \(dtype.rawValue); use I64, I32, I16, I8, U8 or BOOL, or a .float entry")
                }
                guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == values.count else {
                    throw invalid("\(values.count) values do not fill shape \(shape)")
                }
                if let bad = values.first(where: { !range.contains($0) }) {
                    throw invalid("value \(bad) does not fit dtype \(dtype.rawValue) (\(range)); choose a wider dtype")
                }
            }
        }
    }

    /// The JSON header (before padding): metadata first, then the entries in order.
    private static func headerJSON(_ entries: [(name: String, entry: Entry)], metadata: [String: String]) -> String {
        var fields: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(JSONStringLiteral.quoted($0)):\(JSONStringLiteral.quoted(metadata[$0]!))" }
            fields.append("\(JSONStringLiteral.quoted(SafeTensorsHeader.metadataKey)):{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for (name, entry) in entries {
            let end = offset + entry.shape.reduce(1, *) * entry.dtype.byteSize
            let shape = entry.shape.map(String.init).joined(separator: ",")
            fields.append("\(JSONStringLiteral.quoted(name)):{\"dtype\":\"\(entry.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        return "{\(fields.joined(separator: ","))}"
    }

    private static func writeFloats(_ values: UnsafeBufferPointer<Float>, as dtype: DType, to output: FileOutput) throws(SafeTensorsError) {
        switch dtype {
        case .float32:
            try output.append(UnsafeRawBufferPointer(values))
        case .float16:
            try writeChunks(values.count, of: UInt16.self, to: output) { range, chunk in
                DType.convertToFloat16(UnsafeBufferPointer(rebasing: values[range]), into: chunk)
            }
        case .bfloat16:
            try writeChunks(values.count, of: UInt16.self, to: output) { range, chunk in
                DType.convertToBFloat16(UnsafeBufferPointer(rebasing: values[range]), into: chunk)
            }
        case .float64:
            try writeChunks(values.count, of: Double.self, to: output) { range, chunk in
                for (slot, index) in range.enumerated() { chunk[slot] = Double(values[index]) }
            }
        case .int64, .int32, .int16, .int8, .uint8, .bool:
            preconditionFailure("validate() admits only float dtypes for float tensors")
        }
    }

    private static func writeIntegers(_ values: [Int], as dtype: DType, to output: FileOutput) throws(SafeTensorsError) {
        func write<Element: FixedWidthInteger>(_ type: Element.Type) throws(SafeTensorsError) {
            try writeChunks(values.count, of: Element.self, to: output) { range, chunk in
                for (slot, index) in range.enumerated() { chunk[slot] = Element(values[index]).littleEndian }
            }
        }
        switch dtype {
        case .int64: try write(Int64.self)
        case .int32: try write(Int32.self)
        case .int16: try write(Int16.self)
        case .int8: try write(Int8.self)
        case .uint8, .bool: try write(UInt8.self)
        case .float32, .float16, .bfloat16, .float64:
            preconditionFailure("validate() admits only integer dtypes for integer entries")
        }
    }

    /// Writes `count` elements produced chunk by chunk by `fill(range, chunk)`, through a
    /// bounded scratch buffer.
    private static func writeChunks<Element>(
        _ count: Int, of type: Element.Type, to output: FileOutput,
        _ fill: (Range<Int>, UnsafeMutableBufferPointer<Element>) -> Void
    ) throws(SafeTensorsError) {
        let chunkSize = 1 << 16
        let scratch = UnsafeMutableBufferPointer<Element>.allocate(capacity: min(max(count, 1), chunkSize))
        defer { scratch.deallocate() }
        for start in stride(from: 0, to: count, by: chunkSize) {
            let range = start..<min(start + chunkSize, count)
            let chunk = UnsafeMutableBufferPointer(rebasing: scratch[0..<range.count])
            fill(range, chunk)
            try output.append(UnsafeRawBufferPointer(chunk))
        }
    }
}
