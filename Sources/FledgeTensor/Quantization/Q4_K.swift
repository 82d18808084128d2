/// llama.cpp's `Q4_K`: super-blocks of 256 weights in 144 bytes — a float16 `d`, a float16
/// `dmin`, 12 bytes of eight packed 6-bit (scale, min) pairs, then 128 bytes of 4-bit levels.
/// The 256 weights are eight sub-blocks of 32; sub-block `s` has `d · scale[s]` and
/// `dmin · min[s]`, and its weight `i` is `d · scale[s] · q[i] − dmin · min[s]`. Bytes
/// `32j ..< 32j + 32` hold sub-block `2j` in their low nibbles and `2j + 1` in their high ones.
///
/// `dequantize` is bit for bit ggml's `dequantize_row_q4_K` (and gguf-py's). `quantize` is
/// ggml's `quantize_row_q4_K_ref` (the weighted min/scale search of `make_qkx2_quants`, 6-bit
/// scales and mins, then the levels re-derived from the rounded scales); it matches ggml's bytes
/// up to float rounding in the search's sums, which C compilers may contract into fused
/// multiply-adds — any difference is a level one step away where two candidates were equally
/// good, well inside the format's error.
public enum Q4_K: QuantizingBlockFormat {
    public static let name = "q4_k"
    public static let valuesPerBlock = 256
    public static let bytesPerBlock = 144

    private static let scalesOffset = 4
    private static let levelsOffset = 16

    public static func dequantize(_ blocks: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Float>) {
        forEachBlock(blocks, output) { block, values in
            let d = block.float16(at: 0), dmin = block.float16(at: 2)
            for group in 0..<8 {
                let packed = KQuantScales.scaleAndMinimum(block, at: scalesOffset, group: group)
                let (groupScale, groupMinimum) = (d * Float(packed.scale), dmin * Float(packed.minimum))
                let shift = UInt8(4 * (group % 2))
                for lane in 0..<32 {
                    values[32 * group + lane] = groupScale * Float((block[levelsOffset + 32 * (group / 2) + lane] >> shift) & 0x0F) - groupMinimum
                }
            }
        }
    }

    public static func quantize(_ values: UnsafeBufferPointer<Float>, into blocks: UnsafeMutableRawBufferPointer) {
        var levels = [UInt8](repeating: 0, count: 256)
        var scales = [Float](repeating: 0, count: 8), mins = [Float](repeating: 0, count: 8)
        for block in 0..<values.count / valuesPerBlock {
            let x = UnsafeBufferPointer(rebasing: values[(block * valuesPerBlock)...].prefix(valuesPerBlock))
            let offset = block * bytesPerBlock
            var maxScale: Float = 0, maxMin: Float = 0
            for j in 0..<8 {
                let sub = UnsafeBufferPointer(rebasing: x[(32 * j)...].prefix(32))
                var sumSquares: Float = 0
                for v in sub { sumSquares += v * v }
                let average = (sumSquares / 32).squareRoot()
                let weights = sub.map { average + abs($0) }
                (scales[j], mins[j]) = levels.withUnsafeMutableBufferPointer {
                    searchScaleAndMin(sub, weights: weights, levels: $0.baseAddress! + 32 * j)
                }
                maxScale = max(maxScale, scales[j])
                maxMin = max(maxMin, mins[j])
            }
            let inverseScale: Float = maxScale > 0 ? 63 / maxScale : 0
            let inverseMin: Float = maxMin > 0 ? 63 / maxMin : 0
            var packed = [UInt8](repeating: 0, count: 12)
            for j in 0..<8 {
                let ls = UInt8(min(63, nearestInt(inverseScale * scales[j])))
                let lm = UInt8(min(63, nearestInt(inverseMin * mins[j])))
                if j < 4 {
                    packed[j] = ls
                    packed[j + 4] = lm
                } else {
                    packed[j + 4] = (ls & 0x0F) | ((lm & 0x0F) << 4)
                    packed[j - 4] |= (ls >> 4) << 6
                    packed[j] |= (lm >> 4) << 6
                }
            }
            storeFloat16(maxScale / 63, blocks, at: offset)
            storeFloat16(maxMin / 63, blocks, at: offset + 2)
            for j in 0..<12 { blocks[offset + scalesOffset + j] = packed[j] }
            let stored = BlockBytes(base: UnsafeRawPointer(blocks.baseAddress! + offset))
            let d = stored.float16(at: 0), dmin = stored.float16(at: 2)
            for j in 0..<8 {
                let (scale, minimum) = KQuantScales.scaleAndMinimum(stored, at: scalesOffset, group: j)
                let subScale = d * Float(scale)
                guard subScale != 0 else { continue }
                let subMin = dmin * Float(minimum)
                for i in 0..<32 {
                    levels[32 * j + i] = UInt8(max(0, min(15, nearestInt((x[32 * j + i] + subMin) / subScale))))
                }
            }
            for j in 0..<4 {
                for l in 0..<32 {
                    blocks[offset + levelsOffset + 32 * j + l] = levels[64 * j + l] | (levels[64 * j + 32 + l] << 4)
                }
            }
        }
    }

    /// ggml's `nearest_int`: round to nearest, ties to even.
    @inline(__always)
    private static func nearestInt(_ value: Float) -> Int { Int(value.rounded(.toNearestOrEven)) }

    /// ggml's `make_qkx2_quants(32, 15, …, rmin: −1, rdelta: 0.1, nstep: 20, use_mad: false)`:
    /// the scale and (negated) min of one sub-block of 32 that minimise the weighted squared
    /// error of its 4-bit levels, searched over 21 candidate scales; writes the best levels to
    /// `levels` (they stay when the sub-block's rounded scale is zero).
    private static func searchScaleAndMin(
        _ x: UnsafeBufferPointer<Float>, weights: [Float], levels: UnsafeMutablePointer<UInt8>
    ) -> (scale: Float, min: Float) {
        let count = x.count, levelsMax: Float = 15
        var lower = x[0], upper = x[0]
        var sumWeights = weights[0], sumX = weights[0] * x[0]
        for i in 1..<count {
            lower = Swift.min(lower, x[i])
            upper = Swift.max(upper, x[i])
            sumWeights += weights[i]
            sumX += weights[i] * x[i]
        }
        if lower > 0 { lower = 0 }
        if upper == lower {
            levels.update(repeating: 0, count: count)
            return (0, -lower)
        }
        var inverse = levelsMax / (upper - lower)
        var scale = 1 / inverse
        var bestError: Float = 0
        for i in 0..<count {
            let level = max(0, min(15, nearestInt(inverse * (x[i] - lower))))
            levels[i] = UInt8(level)
            let difference = scale * Float(level) + lower - x[i]
            bestError += weights[i] * (difference * difference)
        }
        var candidate = [Float](repeating: 0, count: count)
        for step in 0...20 {
            inverse = (-1 + 0.1 * Float(step) + levelsMax) / (upper - lower)
            var sumL: Float = 0, sumL2: Float = 0, sumXL: Float = 0
            for i in 0..<count {
                let level = Float(max(0, min(15, nearestInt(inverse * (x[i] - lower)))))
                candidate[i] = level
                sumL += weights[i] * level
                sumL2 += weights[i] * level * level
                sumXL += weights[i] * level * x[i]
            }
            let determinant = sumWeights * sumL2 - sumL * sumL
            guard determinant > 0 else { continue }
            var thisScale = (sumWeights * sumXL - sumX * sumL) / determinant
            var thisMin = (sumL2 * sumX - sumL * sumXL) / determinant
            if thisMin > 0 {
                thisMin = 0
                thisScale = sumXL / sumL2
            }
            var error: Float = 0
            for i in 0..<count {
                let difference = thisScale * candidate[i] + thisMin - x[i]
                error += weights[i] * (difference * difference)
            }
            if error < bestError {
                for i in 0..<count { levels[i] = UInt8(candidate[i]) }
                bestError = error
                scale = thisScale
                lower = thisMin
            }
        }
        return (scale, -lower)
    }
}
