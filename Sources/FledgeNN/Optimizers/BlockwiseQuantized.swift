/// A float buffer stored in 8 bits by blockwise dynamic quantization, as bitsandbytes stores
/// 8-bit optimizer state: each block of `blockSize` values keeps its largest magnitude (absmax) in
/// float32 and, per value, the byte of the map code nearest to value / absmax.
///
/// A block of zeros has absmax 0 and the code of 0. Fresh state is all-zero bytes with absmax 0,
/// as bitsandbytes initialises it, which dequantizes to zeros.
final class BlockwiseQuantized {
    /// Values per block (bitsandbytes' 8-bit optimizers use 256).
    static let blockSize = 256

    /// The map the codes index.
    let map: DynamicQuantizationMap
    /// One code per value.
    private(set) var codes: [UInt8]
    /// One scale per block (the last block may be partial).
    private(set) var absmax: [Float]

    /// `count` zeros quantized with `map`.
    init(count: Int, map: DynamicQuantizationMap) {
        self.map = map
        codes = Array(repeating: 0, count: count)
        absmax = Array(repeating: 0, count: Self.blockCount(count))
    }

    /// The number of blocks that hold `count` values.
    static func blockCount(_ count: Int) -> Int { (count + blockSize - 1) / blockSize }

    /// The number of values.
    var count: Int { codes.count }
    /// Bytes held: one per value plus a float32 scale per block.
    var byteCount: Int { codes.count + absmax.count * MemoryLayout<Float>.stride }

    /// Replaces the state by `codes` and `absmax` (as written by a checkpoint).
    func restore(codes: [UInt8], absmax: [Float]) {
        precondition(codes.count == count && absmax.count == self.absmax.count, "restored state must keep its size")
        self.codes = codes
        self.absmax = absmax
    }

    /// Calls `body` with the codes and block scales for in-place block updates (see
    /// `dequantize(block:…)` and `quantize(block:…)`), which may run blocks in parallel.
    func withBlocks<R>(_ body: (Blocks) -> R) -> R {
        codes.withUnsafeMutableBufferPointer { codes in
            absmax.withUnsafeMutableBufferPointer { absmax in
                body(Blocks(map: map, codes: codes, absmax: absmax))
            }
        }
    }

    /// Direct access to the codes and scales; distinct blocks may be used from different threads.
    struct Blocks {
        let map: DynamicQuantizationMap
        let codes: UnsafeMutableBufferPointer<UInt8>
        let absmax: UnsafeMutableBufferPointer<Float>

        /// The element range of block `block`.
        func range(ofBlock block: Int) -> Range<Int> {
            block * blockSize..<Swift.min((block + 1) * blockSize, codes.count)
        }

        /// Writes block `block`'s values, code × absmax, into `values`.
        func dequantize(block: Int, into values: UnsafeMutablePointer<Float>) {
            let scale = absmax[block], start = block * blockSize
            for slot in 0..<range(ofBlock: block).count {
                values[slot] = map.code(codes[start + slot]) * scale
            }
        }

        /// Stores `values` as block `block`: its absmax, then each value's nearest code to
        /// value · (1 / absmax) clamped to [−1, 1] (bitsandbytes' blockwise quantization).
        func quantize(block: Int, from values: UnsafePointer<Float>) {
            let count = range(ofBlock: block).count, start = block * blockSize
            var largest = SIMD8<Float>.zero
            for offset in stride(from: 0, to: count, by: 8) {
                let lanes = SIMD8<Float>(loading: values + offset, count: count - offset)
                let magnitudes = lanes.replacing(with: -lanes, where: lanes .< 0)
                largest.replace(with: magnitudes, where: magnitudes .> largest)
            }
            let scale = largest.max()
            absmax[block] = scale
            let inverse = scale == 0 ? 0 : 1 / scale
            for offset in stride(from: 0, to: count, by: 8) {
                let lanes = min(8, count - offset)
                var scaled = SIMD8<Float>(loading: values + offset, count: lanes) * inverse
                scaled.replace(with: 1, where: scaled .> 1)
                scaled.replace(with: -1, where: scaled .< -1)
                for lane in 0..<lanes { codes[start + offset + lane] = map.index(of: scaled[lane]) }
            }
        }
    }
}
