import CFledgeKernels

/// Matrix products with bfloat16 operands and float32 accumulation: `C (+)= bf16(A) · bf16(B)`,
/// each operand rounded to the nearest bfloat16 (ties to even). The result itself is not rounded
/// (callers that need a bfloat16 result, as autocast's products, round it).
///
/// Two implementations, chosen at run time:
/// - **`vdpbf16ps`** (AVX-512 BF16, `CPU.hasAVX512BF16`): the operands are rounded into bfloat16
///   bits, A as rows and B as pairs of depth in 16-column panels, and `fledge_gemm_bf16_avx512bf16`
///   multiplies them, 16 pairs per instruction.
/// - **Emulation** (every other CPU): the operands are rounded into float32 buffers that hold
///   bfloat16 values, which the float32 GEMM of the kernel set multiplies. A product of two
///   bfloat16 values is exact in float32, so each step is one fused multiply-add of exactly the
///   bfloat16 inputs: the same arithmetic as `vdpbf16ps` up to the order of the additions.
///
/// What differs between the two: `vdpbf16ps` adds the products of each pair of depth to its
/// accumulator as two roundings, the odd-indexed product first, and treats bfloat16 subnormal
/// inputs and float32 subnormal results as zero; the emulation adds one product per step in
/// depth order (blocks of 256) and keeps subnormals.
enum BFloat16GEMM {
    /// The rows of A one `vdpbf16ps` pass rounds and multiplies (a block of rows per core).
    static let rowBlock = 96

    /// `C[m × n] (+)= bf16(A) · bf16(B)`; `kernels` picks the emulation's float32 kernel set, and
    /// `useDotProductInstruction` (default: whether the CPU has AVX-512 BF16) `vdpbf16ps`.
    static func multiply(
        m: Int, n: Int, k: Int, _ a: MatrixOperand, _ b: MatrixOperand, into c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool, kernels: KernelSet = CPU.kernelSet, useDotProductInstruction: Bool = CPU.hasAVX512BF16
    ) {
        guard m > 0, n > 0 else { return }
        if useDotProductInstruction {
            precondition(CPU.hasAVX512BF16, "vdpbf16ps needs avx512_bf16, which this CPU lacks")
            multiplyWithDotProducts(m: m, n: n, k: k, a, b, into: c, ldc: ldc, accumulate: accumulate)
        } else {
            multiplyEmulated(m: m, n: n, k: k, a, b, into: c, ldc: ldc, accumulate: accumulate, kernels: kernels)
        }
    }

    /// Rounds A and B into float32 buffers of bfloat16 values, then the float32 GEMM.
    static func multiplyEmulated(
        m: Int, n: Int, k: Int, _ a: MatrixOperand, _ b: MatrixOperand, into c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool, kernels: KernelSet
    ) {
        let roundedA = rounded(rows: m, columns: k, a), roundedB = rounded(rows: k, columns: n, b)
        GEMM.multiply(m: m, n: n, k: k, MatrixOperand(base: roundedA.pointer, rowStride: k, columnStride: 1),
                      MatrixOperand(base: roundedB.pointer, rowStride: n, columnStride: 1), into: c, ldc: ldc,
                      accumulate: accumulate, kernels: kernels)
    }

    /// The `rows × columns` operand rounded to bfloat16 values, row-major, its rows shared out across cores.
    private static func rounded(rows: Int, columns: Int, _ operand: MatrixOperand) -> TensorStorage {
        let storage = TensorStorage(count: rows * columns)
        let target = storage.pointer
        Parallel.forRanges(rows, minChunk: Swift.max(1, 65_536 / Swift.max(columns, 1))) { range in
            for i in range {
                let row = operand.base + i * operand.rowStride
                for j in 0..<columns { target[i * columns + j] = row[j * operand.columnStride].roundedToBFloat16 }
            }
        }
        return storage
    }

    /// B rounded into bfloat16 pairs once, then blocks of A rows rounded and multiplied per core.
    private static func multiplyWithDotProducts(
        m: Int, n: Int, k: Int, _ a: MatrixOperand, _ b: MatrixOperand, into c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool
    ) {
        let pairs = (k + 1) / 2, panels = (n + 15) / 16
        let packedB = UnsafeMutablePointer<UInt16>.allocate(capacity: Swift.max(1, panels * pairs * 32))
        defer { packedB.deallocate() }
        Parallel.forRanges(panels, minChunk: 4) { range in
            let first = range.lowerBound * 16, columns = Swift.min(range.upperBound * 16, n) - first
            fledge_pack_bf16_pairs(k, columns, b.base + first * b.columnStride, b.rowStride, b.columnStride,
                                   packedB + range.lowerBound * pairs * 32)
        }
        let blocks = (m + rowBlock - 1) / rowBlock
        Parallel.forRanges(blocks) { range in
            let packedA = UnsafeMutablePointer<UInt16>.allocate(capacity: rowBlock * 2 * pairs)
            defer { packedA.deallocate() }
            for block in range {
                let i0 = block * rowBlock, height = Swift.min(rowBlock, m - i0)
                fledge_pack_bf16_rows(height, k, a.base + i0 * a.rowStride, a.rowStride, a.columnStride, packedA)
                fledge_gemm_bf16_avx512bf16(height, n, k, packedA, packedB, c + i0 * ldc, ldc, accumulate ? 1 : 0)
            }
        }
    }
}
