import CFledgeKernels
import XCTest
@testable import FledgeTensor

/// bfloat16 products (`BFloat16GEMM`): the exact-rounding emulation on every float32 kernel set the
/// CPU has, and `vdpbf16ps` where the CPU has AVX-512 BF16, each within float32 accumulation error
/// of the float64 product of the bfloat16-rounded operands, on odd, non-square sizes in every layout;
/// the rounding and the pair packing that `vdpbf16ps` reads.
final class BFloat16GEMMTests: XCTestCase {
    func testPortableEmulationMatchesFloat64OfRoundedOperands() throws { try check(.portable, dotProducts: false) }
    func testAVX2EmulationMatchesFloat64OfRoundedOperands() throws { try check(.avx2, dotProducts: false) }
    func testAVX512EmulationMatchesFloat64OfRoundedOperands() throws { try check(.avx512, dotProducts: false) }

    func testAVX512BF16DotProductsMatchFloat64OfRoundedOperands() throws {
        try XCTSkipUnless(CPU.hasAVX512BF16, "vdpbf16ps needs avx512f avx512bw avx512dq avx512vl avx512_bf16 "
            + "(avx512_bf16 missing on this CPU, or disabled by FLEDGE_DISABLE_AVX512_BF16/FLEDGE_DISABLE_AVX512)")
        try check(.avx512, dotProducts: true)
    }

    /// (m, n, k): sizes 1, 7, 33, 1000 (at most one 1000), odd depths (a half-filled last pair) and
    /// partial 6-row tiles and 16-column panels.
    private let shapes: [(Int, Int, Int)] = {
        let sizes = [1, 7, 33, 1000]
        var shapes: [(Int, Int, Int)] = []
        for m in sizes { for n in sizes { for k in sizes where [m, n, k].filter({ $0 == 1000 }).count <= 1 { shapes.append((m, n, k)) } } }
        shapes += [(97, 49, 301), (13, 4100, 5), (200, 48, 77)]
        return shapes
    }()

    /// Each output within 1e-6 of the float64 product of the rounded operands relative to Σ|a·b|
    /// (the products are exact in float32; only the float32 sums round), and rounding visible: the
    /// products differ from those of the unrounded operands by far more than that.
    private func check(_ kernels: KernelSet, dotProducts: Bool) throws {
        try skipUnlessAvailable(kernels)
        var generator = SeededGenerator(seed: 5)
        var worst = 0.0, roundingEffect = 0.0
        for layout in ["nn", "nt", "tn"] {
            for (m, n, k) in shapes {
                let a = (0..<m * k).map { _ in Float.random(in: -1...1, using: &generator) }
                let b = (0..<k * n).map { _ in Float.random(in: -1...1, using: &generator) }
                var c = [Float](repeating: 0.5, count: m * n)
                let accumulate = (m + n + k) % 2 == 0
                a.withUnsafeBufferPointer { pa in
                    b.withUnsafeBufferPointer { pb in
                        // A stored [m, k] (or [k, m] for tn), B [k, n] (or [n, k] for nt).
                        let opA = layout == "tn" ? MatrixOperand(base: pa.baseAddress!, rowStride: 1, columnStride: m)
                            : MatrixOperand(base: pa.baseAddress!, rowStride: k, columnStride: 1)
                        let opB = layout == "nt" ? MatrixOperand(base: pb.baseAddress!, rowStride: 1, columnStride: k)
                            : MatrixOperand(base: pb.baseAddress!, rowStride: n, columnStride: 1)
                        BFloat16GEMM.multiply(m: m, n: n, k: k, opA, opB, into: &c, ldc: n, accumulate: accumulate,
                                              kernels: kernels, useDotProductInstruction: dotProducts)
                    }
                }
                for i in 0..<m {
                    for j in 0..<n {
                        var exact = accumulate ? 0.5 : 0.0, plain = exact, magnitude = accumulate ? 0.5 : 0.0
                        for p in 0..<k {
                            let x = layout == "tn" ? a[p * m + i] : a[i * k + p]
                            let y = layout == "nt" ? b[j * k + p] : b[p * n + j]
                            exact += Double(x.roundedToBFloat16) * Double(y.roundedToBFloat16)
                            plain += Double(x) * Double(y)
                            magnitude += Swift.abs(Double(x) * Double(y))
                        }
                        let scale = Swift.max(magnitude, 1e-30)
                        worst = Swift.max(worst, Swift.abs(Double(c[i * n + j]) - exact) / scale)
                        roundingEffect = Swift.max(roundingEffect, Swift.abs(exact - plain) / scale)
                    }
                }
            }
        }
        print("bfloat16 GEMM (\(kernels), \(dotProducts ? "vdpbf16ps" : "emulated")): worst error \(worst) of Σ|a·b|; "
              + "rounding the operands moves products by up to \(roundingEffect)")
        XCTAssertLessThan(worst, 1e-6)
        XCTAssertGreaterThan(roundingEffect, 1e-3)
    }

    /// `roundedToBFloat16` is the round-to-nearest-even of `DType`'s bfloat16 conversion, specials included.
    func testRoundingIsTheConversionToBFloat16() {
        var generator = SeededGenerator(seed: 3)
        var values: [Float] = [0, -0, 1, -1, .infinity, -.infinity, .greatestFiniteMagnitude, .leastNonzeroMagnitude,
                               Float(bitPattern: 0x3F80_8000), Float(bitPattern: 0x3F81_8000), Float(bitPattern: 0x7F7F_FFFF),
                               Float(bitPattern: 0x0000_8000), Float(bitPattern: 0x0001_8000)]
        values += (0..<10_000).map { _ in Float(bitPattern: UInt32.random(in: 0...0xFF7F_FFFF, using: &generator)) }
        for value in values where !value.isNaN {
            XCTAssertEqual(value.roundedToBFloat16.bitPattern, UInt32(DType.bfloat16Bits(value)) << 16, "\(value)")
        }
        XCTAssertEqual(Float(bitPattern: 0x3F80_8000).roundedToBFloat16, 1, "a tie rounds to the even neighbour")
        XCTAssertEqual(Float(bitPattern: 0x3F81_8000).roundedToBFloat16.bitPattern, 0x3F82_0000, "a tie rounds to the even neighbour")
        XCTAssert(Float(bitPattern: 0x7F80_0001).roundedToBFloat16.isNaN, "a NaN whose payload is all in the dropped bits stays NaN")
        XCTAssertEqual(Float(bitPattern: 0x7F7F_FFFF).roundedToBFloat16, .infinity, "the largest floats round up to infinity")
    }

    /// The packing `vdpbf16ps` reads: rows of A padded to an even depth, B in 16-column panels of
    /// depth pairs, every value rounded, the padding zero (checked on every CPU, without the instruction).
    func testBFloat16PackingLayout() {
        let (rows, depth, columns) = (3, 5, 19)
        let a = (0..<rows * depth).map { Float($0) * 1.001 + 0.3 }
        let b = (0..<depth * columns).map { Float($0) * -0.999 + 0.7 }
        var packedA = [UInt16](repeating: 0xFFFF, count: rows * 6)
        var packedB = [UInt16](repeating: 0xFFFF, count: 2 * 3 * 32)
        fledge_pack_bf16_rows(rows, depth, a, depth, 1, &packedA)
        fledge_pack_bf16_pairs(depth, columns, b, columns, 1, &packedB)
        for i in 0..<rows {
            for p in 0..<6 {
                XCTAssertEqual(packedA[i * 6 + p], p < depth ? DType.bfloat16Bits(a[i * depth + p]) : 0, "A (\(i), \(p))")
            }
        }
        for q in 0..<2 {
            for s in 0..<3 {
                for c in 0..<16 {
                    for r in 0..<2 {
                        let (p, j) = (2 * s + r, 16 * q + c)
                        let expected = p < depth && j < columns ? DType.bfloat16Bits(b[p * columns + j]) : 0
                        XCTAssertEqual(packedB[(q * 3 + s) * 32 + 2 * c + r], expected, "B (\(p), \(j))")
                    }
                }
            }
        }
    }
}
