import Foundation

#if _endian(big)
#error("GGUF data is little-endian; reading it on a big-endian host needs byte swapping")
#endif

/// A GGUF file (versions 2 and 3), memory-mapped and validated on open: its metadata, and its
/// tensors read by name as float32.
///
/// Opening reads the header only — the metadata and every tensor's info, each checked against the
/// file's length (sizes overflow-checked, offsets aligned, data inside the file, no two tensors
/// overlapping); tensor bytes are paged in when a tensor is read. F32 tensors borrow the mapped
/// pages (private, copy-on-write); F16, BF16 and the block formats of `GGMLType` are decoded.
public final class GGUFFile: @unchecked Sendable {
    /// Where the file is.
    public let url: URL
    /// The format version (2 or 3).
    public let version: UInt32
    /// The metadata entries in file order.
    public let metadataEntries: [(key: String, value: GGUFValue)]
    /// The metadata by key.
    public let metadata: [String: GGUFValue]
    /// The tensors' infos in file order.
    public let tensorInfos: [GGUFTensorInfo]
    /// The alignment of tensor data (`general.alignment`, 32 by default).
    public let alignment: Int
    /// Where the data section starts in the file.
    public let dataOffset: Int

    private let mapping: MappedFile
    private let infoByName: [String: GGUFTensorInfo]

    /// The default of `general.alignment`.
    public static let defaultAlignment = 32
    /// The most dimensions a GGML tensor has.
    static let maximumDimensions: UInt32 = 4

    /// Opens and validates the file at `url`; throws `GGUFError` when it is missing, truncated or malformed.
    public init(url: URL) throws(GGUFError) {
        self.url = url
        let file = url.path
        do { mapping = try MappedFile(path: file) } catch {
            if case let .io(_, reason) = error { throw .io(file: file, reason: reason) }
            throw .io(file: file, reason: error.description)
        }
        var cursor = GGUFCursor(file: file, bytes: UnsafeRawBufferPointer(mapping.bytes))
        let magicStart = try cursor.skip(4, "the magic 'GGUF'")
        let magic = Array(cursor.bytes[magicStart..<magicStart + 4])
        guard magic == Array("GGUF".utf8) else { throw .notGGUF(file: file, found: magic) }
        version = try cursor.read(UInt32.self, "the version")
        guard version == 2 || version == 3 else { throw .unsupportedVersion(file: file, version: version) }
        let tensorCount = try cursor.read(UInt64.self, "the tensor count")
        let entryCount = try cursor.read(UInt64.self, "the metadata count")
        metadataEntries = try GGUFMetadataReader.entries(entryCount, from: &cursor)
        metadata = Dictionary(uniqueKeysWithValues: metadataEntries.map { ($0.key, $0.value) })
        alignment = try Self.alignment(metadata["general.alignment"], file: file)
        let infos = try Self.tensorInfos(tensorCount, alignment: alignment, from: &cursor)
        // The data section starts at the next multiple of the alignment.
        let headerEnd = cursor.offset
        dataOffset = (headerEnd + alignment - 1) / alignment * alignment
        try Self.checkPlacement(infos, dataOffset: dataOffset, file: file, fileSize: cursor.bytes.count)
        tensorInfos = infos
        infoByName = Dictionary(uniqueKeysWithValues: infos.map { ($0.name, $0) })
    }

    private static func alignment(_ value: GGUFValue?, file: String) throws(GGUFError) -> Int {
        guard let value else { return defaultAlignment }
        guard case .uint32(let alignment) = value else {
            throw .wrongMetadataType(file: file, key: "general.alignment", expected: "a uint32", found: value.summary)
        }
        guard alignment > 0, alignment & (alignment - 1) == 0, alignment <= 1 << 20 else {
            throw .invalidMetadata(file: file, key: "general.alignment", problem: "is \(alignment); it must be a power of two (at most 2^20)")
        }
        return Int(alignment)
    }

    private static func tensorInfos(_ count: UInt64, alignment: Int, from cursor: inout GGUFCursor) throws(GGUFError) -> [GGUFTensorInfo] {
        let file = cursor.file
        // The smallest info is an empty name (8), one dimension (4 + 8), a type (4) and an offset (8).
        guard count <= UInt64(cursor.remaining / 32) else {
            throw .invalidTensor(file: file, tensor: "(header)", problem: "the header counts \(count) tensors, "
                + "more than the file's \(cursor.bytes.count) bytes can describe")
        }
        var infos: [GGUFTensorInfo] = []
        var names: Set<String> = []
        for index in 0..<Int(count) {
            let name = try cursor.string("the name of tensor \(index)")
            guard names.insert(name).inserted else {
                throw .invalidTensor(file: file, tensor: name, problem: "appears twice; each tensor name may appear once")
            }
            let dimensionCount = try cursor.read(UInt32.self, "the dimension count of tensor '\(name)'")
            guard dimensionCount >= 1, dimensionCount <= maximumDimensions else {
                throw .invalidTensor(file: file, tensor: name, problem: "has \(dimensionCount) dimensions; GGML tensors have 1 to \(maximumDimensions)")
            }
            var dimensions: [Int] = []
            var count = 1
            for axis in 0..<Int(dimensionCount) {
                let size = try cursor.read(UInt64.self, "dimension \(axis) of tensor '\(name)'")
                let product = Int(exactly: size).map { count.multipliedReportingOverflow(by: $0) }
                guard let product, !product.overflow, size > 0 else {
                    throw .invalidTensor(file: file, tensor: name, problem: size == 0
                        ? "dimension \(axis) is 0; every dimension must be positive"
                        : "has dimensions whose product overflows a 64-bit size (dimension \(axis) is \(size)); the header is corrupt")
                }
                dimensions.append(Int(size))
                count = product.partialValue
            }
            let code = try cursor.read(UInt32.self, "the type of tensor '\(name)'")
            guard let type = GGMLType.type(code: code) else {
                throw .invalidTensor(file: file, tensor: name, problem: "has type code \(code), which GGML does not define")
            }
            guard dimensions[0] % type.valuesPerBlock == 0 else {
                throw .invalidTensor(file: file, tensor: name, problem: "has rows of \(dimensions[0]) values, "
                    + "not a multiple of the \(type.valuesPerBlock)-value blocks of \(type.name)")
            }
            let (byteCount, overflow) = (count / type.valuesPerBlock).multipliedReportingOverflow(by: type.bytesPerBlock)
            guard !overflow else {
                throw .invalidTensor(file: file, tensor: name, problem: "\(count) values of \(type.name) take more bytes than a 64-bit size holds")
            }
            let offset = try cursor.read(UInt64.self, "the data offset of tensor '\(name)'")
            guard offset % UInt64(alignment) == 0, let start = Int(exactly: offset) else {
                throw .invalidTensor(file: file, tensor: name, problem: "has data offset \(offset), not a multiple of the alignment \(alignment)")
            }
            infos.append(GGUFTensorInfo(name: name, dimensions: dimensions, type: type, offset: start, byteCount: byteCount))
        }
        return infos
    }

    /// Every tensor's data lies inside the file, and no two overlap.
    private static func checkPlacement(_ infos: [GGUFTensorInfo], dataOffset: Int, file: String, fileSize: Int) throws(GGUFError) {
        let dataLength = fileSize - dataOffset
        for info in infos {
            guard dataLength >= 0, info.offset <= dataLength, info.byteCount <= dataLength - info.offset else {
                throw .invalidTensor(file: file, tensor: info.name, problem: "its \(info.byteCount) bytes of \(info.type.name) data at "
                    + "offset \(info.offset) of the data section (byte \(dataOffset)) run past the end of the file "
                    + "(\(fileSize) bytes); the file is truncated (download it again)")
            }
        }
        let ordered = infos.filter { $0.byteCount > 0 }.sorted { $0.offset < $1.offset }
        for (previous, next) in zip(ordered, ordered.dropFirst()) where previous.offset + previous.byteCount > next.offset {
            throw .invalidTensor(file: file, tensor: next.name, problem: "its data overlaps that of '\(previous.name)'; the header is corrupt")
        }
    }

    /// The info of the tensor called `name`, or nil if there is none.
    public func info(_ name: String) -> GGUFTensorInfo? { infoByName[name] }

    /// The mapped bytes of a tensor of this file, as stored (valid while the file is alive).
    func data(of info: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: mapping.bytes.baseAddress! + dataOffset + info.offset, count: info.byteCount)
    }

    /// Float32 tensors of at least this many bytes are copied out of the mapping (`copiedToHugePages`).
    static let hugePageCopyBytes = 8 << 20

    /// A large float32 tensor copied into owned memory on transparent huge pages (the file's pages
    /// are 4 KiB ones), 2 MiB at a time, each piece's file pages released as soon as it is copied
    /// (so the resident memory is what borrowing the pages would hold, plus at most one piece):
    /// a weight that each decoded token streams whole, such as the tied embedding and output head,
    /// reads faster from huge pages.
    private func copiedToHugePages(_ info: GGUFTensorInfo, shape: [Int]) -> Tensor {
        let storage = TensorStorage(count: info.count, hugePages: true)
        let source = data(of: info), first = dataOffset + info.offset
        let target = UnsafeMutableRawPointer(storage.pointer)
        for start in stride(from: 0, to: info.byteCount, by: TensorStorage.hugePageBytes) {
            let end = min(start + TensorStorage.hugePageBytes, info.byteCount)
            (target + start).copyMemory(from: source.baseAddress! + start, byteCount: end - start)
            mapping.releasePages((first + start)..<(first + end))
        }
        return Tensor(storage: storage, shape: shape, strides: Shape.contiguousStrides(shape))
    }

    /// Reads the tensor called `name` as float32 of its row-major `shape`.
    public func tensor(_ name: String) throws(GGUFError) -> Tensor {
        guard let info = infoByName[name] else { throw .tensorNotFound(file: url.path, tensor: name) }
        let source = data(of: info)
        let start = UnsafeMutableRawPointer(mutating: source.baseAddress!)
        let count = info.count
        switch info.type.storage {
        case .float32:
            if info.byteCount >= Self.hugePageCopyBytes { return copiedToHugePages(info, shape: info.shape) }
            if Int(bitPattern: start) % MemoryLayout<Float>.alignment == 0 {
                let floats = start.bindMemory(to: Float.self, capacity: count)
                return Tensor(storage: TensorStorage(borrowing: floats, count: count, owner: mapping), shape: info.shape,
                              strides: Shape.contiguousStrides(info.shape))
            }
            return Tensor(shape: info.shape) { UnsafeMutableRawBufferPointer($0).copyMemory(from: source) }
        case .float16:
            return decode(source, info, blockBytes: 2, valuesPerBlock: 1) { bytes, output in
                Self.withHalves(bytes) { DType.convertFromFloat16($0, into: output) }
            }
        case .bfloat16:
            return decode(source, info, blockBytes: 2, valuesPerBlock: 1) { bytes, output in
                Self.withHalves(bytes) { DType.convertFromBFloat16($0, into: output) }
            }
        case .blocks(let format):
            return decode(source, info, blockBytes: format.bytesPerBlock, valuesPerBlock: format.valuesPerBlock, format.dequantize)
        case .unreadable:
            throw .unsupportedTensorType(file: url.path, tensor: name, type: info.type.name, supported: GGMLType.readableNames)
        }
    }

    /// `bytes` as 16-bit values: in place when aligned (the usual case), else copied (a file with
    /// `general.alignment` 1 may place them at odd addresses).
    private static func withHalves(_ bytes: UnsafeRawBufferPointer, _ body: (UnsafeBufferPointer<UInt16>) -> Void) {
        if Int(bitPattern: bytes.baseAddress) % MemoryLayout<UInt16>.alignment == 0 {
            return body(bytes.assumingMemoryBound(to: UInt16.self))
        }
        [UInt16](unsafeUninitializedCapacity: bytes.count / 2) { buffer, initialized in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: bytes)
            initialized = bytes.count / 2
        }.withUnsafeBufferPointer(body)
    }

    /// A float32 tensor decoded block by block, in parallel over chunks of blocks.
    private func decode(
        _ source: UnsafeRawBufferPointer, _ info: GGUFTensorInfo, blockBytes: Int, valuesPerBlock: Int,
        _ body: (UnsafeRawBufferPointer, UnsafeMutableBufferPointer<Float>) -> Void
    ) -> Tensor {
        Tensor(shape: info.shape) { output in
            Parallel.forRanges(source.count / blockBytes, minChunk: max(1, (1 << 16) / valuesPerBlock)) { blocks in
                body(UnsafeRawBufferPointer(rebasing: source[blocks.lowerBound * blockBytes..<blocks.upperBound * blockBytes]),
                     UnsafeMutableBufferPointer(rebasing: output[blocks.lowerBound * valuesPerBlock..<blocks.upperBound * valuesPerBlock]))
            }
        }
    }
}
