/// Little-endian reads from one block of a block-quantized format, the scales of llama.cpp's
/// formats being float16 bit patterns.
struct BlockBytes {
    let base: UnsafeRawPointer

    /// The byte at `offset`.
    @inline(__always)
    subscript(offset: Int) -> UInt8 { base.load(fromByteOffset: offset, as: UInt8.self) }

    /// The float16 at `offset`, widened exactly to float32.
    @inline(__always)
    func float16(at offset: Int) -> Float {
        DType.float(fromFloat16Bits: UInt16(self[offset]) | UInt16(self[offset + 1]) << 8)
    }

    /// The little-endian 32-bit word at `offset`.
    @inline(__always)
    func uint32(at offset: Int) -> UInt32 {
        UInt32(self[offset]) | UInt32(self[offset + 1]) << 8 | UInt32(self[offset + 2]) << 16 | UInt32(self[offset + 3]) << 24
    }
}

extension BlockFormat {
    /// Runs `decode` on each block with its bytes and the block's slice of `output` (as a pointer
    /// to `valuesPerBlock` floats); the loop every format's `dequantize` shares.
    @inline(__always)
    static func forEachBlock(
        _ blocks: UnsafeRawBufferPointer, _ output: UnsafeMutableBufferPointer<Float>,
        _ decode: (BlockBytes, UnsafeMutablePointer<Float>) -> Void
    ) {
        let count = blocks.count / bytesPerBlock
        precondition(count * bytesPerBlock == blocks.count && output.count == count * valuesPerBlock,
                     "\(name): \(blocks.count) bytes do not decode into \(output.count) values")
        guard let source = blocks.baseAddress, let destination = output.baseAddress else { return }
        for block in 0..<count {
            decode(BlockBytes(base: source + block * bytesPerBlock), destination + block * valuesPerBlock)
        }
    }
}
