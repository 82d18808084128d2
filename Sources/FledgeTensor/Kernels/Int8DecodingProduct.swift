import CFledgeKernels

/// llama.cpp's integer decoding product with a Q8_0 or Q4_0 weight (`ggml_vec_dot_q8_0_q8_0`,
/// `ggml_vec_dot_q4_0_q8_0`): the few activation rows are quantized once per product to Q8_0's
/// 32-value blocks (`Q8_0.quantize`'s bytes: signed levels and a float16 scale per block), and
/// each weight block is dotted with the activation block in integers, the exact integer sum then
/// scaled by the product of the two blocks' scales. It reads the compressed weight once and does
/// a quarter of the float work of dequantize-and-dot, at the cost of rounding the activations to
/// 8 bits per block; generation uses it (`Tensor.withQuantizedActivations`), scoring and training
/// keep the exact float product.
enum Int8DecodingProduct {
    /// Whether `format` has integer decoding kernels.
    static func supports(_ format: QuantizationFormat) -> Bool { format == .q8_0 || format == .q4_0 }

    /// `C[m, W.rows] = A[m, W.columns] · Wᵀ` with A's rows quantized, on the `kernels` set
    /// (`.portable`: the Swift twin; `.avx2`: maddubs; `.avx512VNNI`: vpdpbusd; `.avx512` has no
    /// integer kernel of its own and takes AVX2's).
    static func multiplyTransposed(
        m: Int, _ a: MatrixOperand, _ w: QuantizedMatrix, into c: UnsafeMutablePointer<Float>, ldc: Int, kernels: KernelSet
    ) {
        precondition(supports(w.format) && a.columnStride == 1 && kernels.isAvailable)
        let activations = QuantizedActivations(rows: m, columns: w.columns, a, vectorized: kernels >= .avx2)
        let kernel = self.kernel(w.format, kernels)
        activations.withUnsafePointers { levels, scales, sums in
            w.withBlocks { weightRows, rowBytes in
                Parallel.forRanges(w.rows, minChunk: 16) { range in
                    kernel(m, w.columns, levels, scales, sums, weightRows + range.lowerBound * rowBytes, rowBytes, range.count,
                           c + range.lowerBound, ldc)
                }
            }
        }
    }

    private typealias Kernel = (Int, Int, UnsafePointer<Int8>, UnsafePointer<Float>, UnsafePointer<Int32>,
                                UnsafePointer<UInt8>, Int, Int, UnsafeMutablePointer<Float>, Int) -> Void

    private static func kernel(_ format: QuantizationFormat, _ kernels: KernelSet) -> Kernel {
        switch (format, kernels) {
        case (.q8_0, .avx512VNNI): return { fledge_q8_0_dot_q8_avx512_vnni($0, $1, $2, $3, $4, $5, $6, $7, $8, $9) }
        case (.q4_0, .avx512VNNI): return { fledge_q4_0_dot_q8_avx512_vnni($0, $1, $2, $3, $4, $5, $6, $7, $8, $9) }
        case (.q8_0, .avx2), (.q8_0, .avx512): return { fledge_q8_0_dot_q8_avx2($0, $1, $2, $3, $4, $5, $6, $7, $8, $9) }
        case (.q4_0, .avx2), (.q4_0, .avx512): return { fledge_q4_0_dot_q8_avx2($0, $1, $2, $3, $4, $5, $6, $7, $8, $9) }
        case (.q8_0, .portable): return portableKernel(Q8_0.self) { block, j in Int32(Int8(bitPattern: block[2 + j])) }
        case (.q4_0, .portable):
            return portableKernel(Q4_0.self) { block, j in
                let byte = block[2 + j % 16]
                return Int32(j < 16 ? byte & 0x0F : byte >> 4) - 8
            }
        default: preconditionFailure("no integer decoding kernel for \(format)")
        }
    }

    /// The Swift twin of the vectorised kernels: per block, the exact integer dot product of the
    /// weight's signed levels (`level(block, j)`) with the activation levels, times the product of
    /// the scales, summed over the blocks in order.
    private static func portableKernel(_ format: any BlockFormat.Type, level: @escaping (BlockBytes, Int) -> Int32) -> Kernel {
        let bytesPerBlock = format.bytesPerBlock
        return { m, k, levels, scales, _, w, rowBytes, rows, out, ldo in
            let blocks = k / 32
            for r in 0..<rows {
                for i in 0..<m {
                    var total: Float = 0
                    for b in 0..<blocks {
                        let block = BlockBytes(base: w + r * rowBytes + b * bytesPerBlock)
                        let x = levels + i * k + b * 32
                        var sum: Int32 = 0
                        for j in 0..<32 { sum += level(block, j) * Int32(x[j]) }
                        total += block.float16(at: 0) * scales[i * blocks + b] * Float(sum)
                    }
                    out[i * ldo + r] = total
                }
            }
        }
    }
}
