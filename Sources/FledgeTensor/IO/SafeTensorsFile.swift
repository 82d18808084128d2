import Foundation

#if _endian(big)
#error("safetensors data is little-endian; reading it on a big-endian host needs byte swapping")
#endif

/// A safetensors file, memory-mapped and validated on open, from which tensors are read
/// by name.
///
/// Opening reads only the header; tensor bytes are paged in when a tensor is read.
/// Floating-point tensors (F32, F16, BF16, F64) load as float32 `Tensor`s, integer and
/// boolean ones (I64, I32, I16, I8, U8, BOOL) as `[Int]`.
///
/// An aligned F32 tensor is not copied: it borrows the mapped pages, which are private
/// (copy-on-write), so writing into it never changes the file, and it keeps the mapping
/// alive after the `SafeTensorsFile` is gone. Reading the same F32 name twice returns
/// two tensors sharing that memory.
public final class SafeTensorsFile: @unchecked Sendable {
    /// Where the file is.
    public let url: URL
    /// The string pairs of the header's `__metadata__` entry (empty when there is none).
    public let metadata: [String: String]
    /// The names of all tensors, sorted.
    public let names: [String]

    private let mapping: MappedFile
    private let infos: [String: SafeTensorInfo]
    private let dataStart: Int

    /// Opens and validates the file at `url`; throws `SafeTensorsError` when it is missing,
    /// truncated or malformed.
    public init(url: URL) throws {
        self.url = url
        mapping = try MappedFile(path: url.path)
        let header = try SafeTensorsHeader(file: url.path, bytes: UnsafeRawBufferPointer(mapping.bytes))
        infos = header.tensors
        metadata = header.metadata
        dataStart = header.dataStart
        names = header.tensors.keys.sorted()
    }

    /// The dtype, shape and position of the tensor called `name`, or nil if there is none.
    public func info(_ name: String) -> SafeTensorInfo? { infos[name] }

    /// Reads a floating-point tensor (F32, F16, BF16 or F64) as a float32 tensor.
    public func tensor(_ name: String) throws -> Tensor {
        let info = try lookup(name)
        let count = info.count
        switch info.dtype {
        case .float32:
            let start = address(of: info)
            if count > 0, Int(bitPattern: start) % MemoryLayout<Float>.alignment == 0 {
                let floats = start.bindMemory(to: Float.self, capacity: count)
                let storage = TensorStorage(borrowing: floats, count: count, owner: mapping)
                return Tensor(storage: storage, shape: info.shape, strides: Shape.contiguousStrides(info.shape))
            }
            return Tensor(shape: info.shape) { UnsafeMutableRawBufferPointer($0).copyMemory(from: bytes(of: info)) }
        case .float16:
            return convert(info, from: UInt16.self, DType.convertFromFloat16)
        case .bfloat16:
            return convert(info, from: UInt16.self, DType.convertFromBFloat16)
        case .float64:
            return convert(info, from: Double.self) { source, destination in
                for index in source.indices { destination[index] = Float(source[index]) }
            }
        case .int64, .int32, .int16, .int8, .uint8, .bool:
            throw SafeTensorsError.wrongKind(file: url.path, tensor: name, dtype: info.dtype)
        }
    }

    /// Reads an integer or boolean tensor (I64, I32, I16, I8, U8 or BOOL) as row-major
    /// `Int`s (booleans as 0 and 1).
    public func integers(_ name: String) throws -> [Int] {
        let info = try lookup(name)
        switch info.dtype {
        case .int64: return load(info, as: Int64.self) { Int($0) }
        case .int32: return load(info, as: Int32.self) { Int($0) }
        case .int16: return load(info, as: Int16.self) { Int($0) }
        case .int8: return load(info, as: Int8.self) { Int($0) }
        case .uint8: return load(info, as: UInt8.self) { Int($0) }
        case .bool: return load(info, as: UInt8.self) { $0 == 0 ? 0 : 1 }
        case .float32, .float16, .bfloat16, .float64:
            throw SafeTensorsError.wrongKind(file: url.path, tensor: name, dtype: info.dtype)
        }
    }

    /// Reads a U8 tensor's bytes, row-major (packed 4-bit codes, JSON stored as bytes).
    public func uint8s(_ name: String) throws -> [UInt8] {
        let info = try lookup(name)
        guard info.dtype == .uint8 else { throw SafeTensorsError.wrongKind(file: url.path, tensor: name, dtype: info.dtype) }
        return Array(bytes(of: info))
    }

    /// Lets the file pages of the tensor called `name` leave this process's resident memory, once
    /// nothing reads that tensor any more (a float weight that loading has quantized): an F32
    /// tensor read from this file still borrows them, so it must not be used afterwards. Pages
    /// shared with a neighbouring tensor stay.
    public func releasePages(of name: String) {
        guard let info = infos[name] else { return }
        mapping.releasePages((dataStart + info.byteRange.lowerBound)..<(dataStart + info.byteRange.upperBound))
    }

        private func lookup(_ name: String) throws(SafeTensorsError) -> SafeTensorInfo {
        if let info = infos[name] { return info }
        let suggestions = names.sorted { lhs, rhs in
            let (a, b) = (commonPrefixLength(lhs, name), commonPrefixLength(rhs, name))
            return a != b ? a > b : lhs < rhs
        }
        throw .notFound(file: url.path, tensor: name, suggestions: Array(suggestions.prefix(5)), total: names.count)
    }

    private func commonPrefixLength(_ a: String, _ b: String) -> Int {
        zip(a.utf8, b.utf8).prefix { $0 == $1 }.count
    }

    private func address(of info: SafeTensorInfo) -> UnsafeMutableRawPointer {
        mapping.bytes.baseAddress! + dataStart + info.byteRange.lowerBound
    }

    private func bytes(of info: SafeTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: mapping.bytes[(dataStart + info.byteRange.lowerBound)...][..<(dataStart + info.byteRange.upperBound)])
    }

    /// Calls `body` with the tensor's elements as `Element`s, copying first only when the
    /// bytes are not aligned for `Element` (a tensor after an odd-sized one).
    private func withElements<Element, Result>(
        _ info: SafeTensorInfo, as type: Element.Type, _ body: (UnsafeBufferPointer<Element>) -> Result
    ) -> Result {
        let count = info.count
        guard count > 0 else { return body(UnsafeBufferPointer(start: nil, count: 0)) }
        let start = address(of: info)
        if Int(bitPattern: start) % MemoryLayout<Element>.alignment == 0 {
            return start.withMemoryRebound(to: Element.self, capacity: count) { body(UnsafeBufferPointer(start: $0, count: count)) }
        }
        let copy = [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: bytes(of: info))
            initialized = count
        }
        return copy.withUnsafeBufferPointer(body)
    }

    /// A float32 tensor made by `conversion`, run in parallel over chunks of the elements.
    private func convert<Element>(
        _ info: SafeTensorInfo, from type: Element.Type,
        _ conversion: (UnsafeBufferPointer<Element>, UnsafeMutableBufferPointer<Float>) -> Void
    ) -> Tensor {
        Tensor(shape: info.shape) { destination in
            withElements(info, as: Element.self) { source in
                Parallel.forRanges(source.count, minChunk: 1 << 16) { range in
                    conversion(UnsafeBufferPointer(rebasing: source[range]), UnsafeMutableBufferPointer(rebasing: destination[range]))
                }
            }
        }
    }

    private func load<Element>(_ info: SafeTensorInfo, as type: Element.Type, _ transform: (Element) -> Int) -> [Int] {
        withElements(info, as: Element.self) { $0.map(transform) }
    }
}
