/// bitsandbytes' 4-bit blockwise quantization (`quantize_4bit` / `dequantize_4bit`, blocksize
/// 64), shared by NF4 and FP4, which differ only in their 16-entry codebook.
///
/// bitsandbytes stores a weight as two tensors: the packed codes (two per byte, the first
/// weight in the high nibble) and one float32 absmax per 64 weights (optionally compressed, see
/// `NestedAbsmax`). Fledge keeps each block self-contained in memory — the absmax (float32,
/// little-endian) followed by the block's 32 packed bytes — so that a block decodes on its own;
/// `blocks(packed:absmax:)` and `split(_:)` convert between the two layouts.
///
/// Quantizing reproduces bitsandbytes' bytes exactly: `x · (1 / absmax)` clamped to [−1, 1]
/// takes the code whose value is nearest (a value exactly between two codes takes the lower
/// one), as bitsandbytes' `bucketize` over the codebook's midpoints does; an all-zero block has
/// absmax 0. Dequantizing is `codebook[q] · absmax` in float32, as its CPU kernel computes it.
public protocol BitsAndBytes4BitFormat: QuantizingBlockFormat {
    /// The 16 values a 4-bit code stands for, in code order (bitsandbytes' `get_4bit_type`).
    static var codebook: [Float] { get }
}

/// The codebook sorted by value, with the midpoints between neighbours and the code of each
/// sorted entry: what `bucketize` searches.
struct SortedCodebook: Sendable {
    let midpoints: [Float]
    let codes: [UInt8]

    init(_ codebook: [Float]) {
        let order = codebook.indices.sorted { (codebook[$0], $0) < (codebook[$1], $1) }
        codes = order.map { UInt8($0) }
        midpoints = (1..<order.count).map { (codebook[order[$0 - 1]] + codebook[order[$0]]) / 2 }
    }

    /// The code of the entry nearest to `value` (the lower one on a midpoint).
    @inline(__always)
    func code(_ value: Float) -> UInt8 {
        var low = 0, high = midpoints.count  // the first midpoint ≥ value lies in low...high
        while low < high {
            let middle = (low + high) / 2
            if midpoints[middle] < value { low = middle + 1 } else { high = middle }
        }
        return codes[low]
    }
}

extension BitsAndBytes4BitFormat {
    public static var valuesPerBlock: Int { 64 }
    public static var bytesPerBlock: Int { 36 }

    public static func dequantize(_ blocks: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Float>) {
        let table = codebook
        forEachBlock(blocks, output) { block, values in
            let absmax = Float(bitPattern: block.uint32(at: 0))
            for j in 0..<32 {
                let byte = block[4 + j]
                values[2 * j] = table[Int(byte >> 4)] * absmax
                values[2 * j + 1] = table[Int(byte & 0x0F)] * absmax
            }
        }
    }

    public static func quantize(_ values: UnsafeBufferPointer<Float>, into blocks: UnsafeMutableRawBufferPointer) {
        let sorted = SortedCodebook(codebook)
        for block in 0..<values.count / valuesPerBlock {
            let x = values.baseAddress! + block * valuesPerBlock
            var absmax: Float = 0
            for j in 0..<valuesPerBlock { absmax = max(absmax, abs(x[j])) }
            let inverse = 1 / max(absmax, 1e-38)
            let offset = block * bytesPerBlock
            blocks.storeBytes(of: absmax.bitPattern.littleEndian, toByteOffset: offset, as: UInt32.self)
            func code(_ value: Float) -> UInt8 { sorted.code(min(max(value * inverse, -1), 1)) }
            for j in 0..<32 {
                blocks[offset + 4 + j] = code(x[2 * j]) << 4 | code(x[2 * j + 1])
            }
        }
    }

    /// Interleaves bitsandbytes' two tensors into Fledge's blocks: `packed` holds
    /// `absmax.count · 32` bytes.
    public static func blocks(packed: [UInt8], absmax: [Float]) -> [UInt8] {
        precondition(packed.count == absmax.count * 32, "\(packed.count) packed bytes for \(absmax.count) blocks")
        var blocks = [UInt8](repeating: 0, count: absmax.count * bytesPerBlock)
        for block in absmax.indices {
            withUnsafeBytes(of: absmax[block].bitPattern.littleEndian) { scale in
                for j in 0..<4 { blocks[block * bytesPerBlock + j] = scale[j] }
            }
            for j in 0..<32 { blocks[block * bytesPerBlock + 4 + j] = packed[block * 32 + j] }
        }
        return blocks
    }

    /// Splits Fledge's blocks into bitsandbytes' two tensors: the packed codes and the absmax.
    public static func split(_ blocks: [UInt8]) -> (packed: [UInt8], absmax: [Float]) {
        let count = blocks.count / bytesPerBlock
        var packed = [UInt8](), absmax = [Float]()
        packed.reserveCapacity(count * 32)
        absmax.reserveCapacity(count)
        blocks.withUnsafeBytes { bytes in
            for block in 0..<count {
                let offset = block * bytesPerBlock
                absmax.append(Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))))
                packed.append(contentsOf: bytes[(offset + 4)..<(offset + bytesPerBlock)])
            }
        }
        return (packed, absmax)
    }
}

/// bitsandbytes' NF4 (NormalFloat4, QLoRA's default): 16 quantiles of the standard normal,
/// scaled to [−1, 1].
public enum NF4: BitsAndBytes4BitFormat {
    public static let name = "nf4"
    public static let codebook: [Float] = [
        0xBF80_0000, 0xBF32_39B1, 0xBF06_6B30, 0xBECA_32A0, 0xBE91_A24D, 0xBE3D_353F, 0xBDBA_7871, 0x0000_0000,
        0x3DA2_FAFF, 0x3E24_CAE3, 0x3E7C_04DD, 0x3EAD_033A, 0x3EE1_A4B8, 0x3F10_07AB, 0x3F39_13B3, 0x3F80_0000,
    ].map { Float(bitPattern: $0) }
}

/// bitsandbytes' FP4: a sign, 2 exponent bits and 1 mantissa bit (exponent bias 2), divided by
/// the largest magnitude, 12. Code 8 (the sign bit alone) decodes to +0, as in bitsandbytes'
/// Python codebook and its AVX-512 kernel (its scalar C fallback has −0; the sum is the same).
public enum FP4: BitsAndBytes4BitFormat {
    public static let name = "fp4"
    public static let codebook: [Float] = [
        0x0000_0000, 0x3BAA_AAAB, 0x3F2A_AAAB, 0x3F80_0000, 0x3EAA_AAAB, 0x3F00_0000, 0x3E2A_AAAB, 0x3E80_0000,
        0x0000_0000, 0xBBAA_AAAB, 0xBF2A_AAAB, 0xBF80_0000, 0xBEAA_AAAB, 0xBF00_0000, 0xBE2A_AAAB, 0xBE80_0000,
    ].map { Float(bitPattern: $0) }
}
