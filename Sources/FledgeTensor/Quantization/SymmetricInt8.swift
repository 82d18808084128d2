/// The symmetric 8-bit block encoding that llama.cpp's Q8_0 and Fledge's int8 share: the scale
/// is the block's largest magnitude over 127, and each value is `round(x / scale)` with ties
/// away from zero (C's `roundf`), exactly as ggml's `quantize_row_q8_0_ref` computes it.
enum SymmetricInt8 {
    /// Writes `values.count` signed bytes for `values` to `destination` and returns the scale
    /// (float32, before any rounding of it to the storage precision).
    static func quantize(_ values: UnsafeBufferPointer<Float>, into destination: UnsafeMutableRawPointer) -> Float {
        var largest: Float = 0
        for value in values { largest = max(largest, abs(value)) }
        let scale = largest / 127
        let inverse: Float = scale == 0 ? 0 : 1 / scale
        for (index, value) in values.enumerated() {
            let level = Int8((value * inverse).rounded(.toNearestOrAwayFromZero))
            destination.storeBytes(of: level, toByteOffset: index, as: Int8.self)
        }
        return scale
    }

    /// `output[i] = Float(Int8(block[offset + i])) · scale` for `count` values.
    @inline(__always)
    static func dequantize(_ block: BlockBytes, at offset: Int, scale: Float, into output: UnsafeMutablePointer<Float>, count: Int) {
        for index in 0..<count {
            output[index] = Float(Int8(bitPattern: block[offset + index])) * scale
        }
    }
}
