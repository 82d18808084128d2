extension GGMLType {
    /// The type called `name` (`Q8_0`, case-insensitive), or nil.
    public static func type(named name: String) -> GGMLType? {
        all.first { $0.name.lowercased() == name.lowercased() }
    }

    /// Whether `GGUFWriter` can store tensors of this type: the float types and the block
    /// formats that quantize.
    public var isWritable: Bool {
        switch storage {
        case .float32, .float16, .bfloat16: true
        case .blocks(let format): format is any QuantizingBlockFormat.Type
        case .unreadable: false
        }
    }

    /// The names of the types `GGUFWriter` writes.
    public static var writableNames: [String] { all.filter(\.isWritable).map(\.name) }

    /// `tensor`'s values in this type's bytes: converted for the float types, quantized block by
    /// block (bit for bit as gguf-py for Q8_0 and Q4_0) for the block formats. The last dimension
    /// must be a whole number of blocks and the type writable.
    func encode(_ tensor: Tensor) -> [UInt8] {
        let values = tensor.contiguous().toArray()
        let byteCount = values.count / valuesPerBlock * bytesPerBlock
        return [UInt8](unsafeUninitializedCapacity: byteCount) { buffer, initialized in
            let target = UnsafeMutableRawBufferPointer(buffer)
            values.withUnsafeBufferPointer { source in
                switch storage {
                case .float32:
                    target.copyMemory(from: UnsafeRawBufferPointer(source))
                case .float16:
                    DType.convertToFloat16(source, into: target.bindMemory(to: UInt16.self))
                case .bfloat16:
                    DType.convertToBFloat16(source, into: target.bindMemory(to: UInt16.self))
                case .blocks(let format):
                    guard let quantizing = format as? any QuantizingBlockFormat.Type else {
                        preconditionFailure("\(name) is not writable")
                    }
                    let blockCount = values.count / valuesPerBlock
                    Parallel.forRanges(blockCount, minChunk: max(1, (1 << 16) / valuesPerBlock)) { blocks in
                        quantizing.quantize(
                            UnsafeBufferPointer(rebasing: source[blocks.lowerBound * valuesPerBlock..<blocks.upperBound * valuesPerBlock]),
                            into: UnsafeMutableRawBufferPointer(rebasing: target[blocks.lowerBound * bytesPerBlock..<blocks.upperBound * bytesPerBlock]))
                    }
                case .unreadable:
                    preconditionFailure("\(name) is not writable")
                }
            }
            initialized = byteCount
        }
    }
}
