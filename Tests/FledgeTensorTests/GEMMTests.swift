import XCTest
@testable import FledgeTensor

/// Every kernel set the CPU runs (AVX2 and AVX-512 micro-kernels, packing, small-row paths) and
/// the portable GEMM match a float64 product on odd, non-square sizes, in every layout, overwriting
/// and accumulating; the AVX-512 micro-kernel gives the AVX2 one's values exactly.
final class GEMMTests: XCTestCase {
    func testPortableGEMMMatchesFloat64OnOddSizes() throws { try checkAgainstFloat64(.portable) }
    func testAVX2GEMMMatchesFloat64OnOddSizes() throws { try checkAgainstFloat64(.avx2) }
    func testAVX512GEMMMatchesFloat64OnOddSizes() throws { try checkAgainstFloat64(.avx512) }
    func testAVX512VNNIGEMMMatchesFloat64OnOddSizes() throws { try checkAgainstFloat64(.avx512VNNI) }

    /// (m, n, k) of every path: sizes 1, 7, 33, 1000 (at most one of them 1000), and the shapes
    /// that reach the paths those miss.
    private let shapes: [(Int, Int, Int)] = {
        let sizes = [1, 7, 33, 1000]
        var shapes: [(Int, Int, Int)] = []
        for m in sizes { for n in sizes { for k in sizes where [m, n, k].filter({ $0 == 1000 }).count <= 1 { shapes.append((m, n, k)) } } }
        shapes.append((13, 4100, 5))  // more columns than one packed block of B
        shapes += [(5, 33, 1000), (8, 7, 33), (6, 100, 17)]  // the streaming decoding path (AVX2: up to 32 rows)
        // Narrow products read A in place; short ones with whole panels read B in place (nn, tn),
        // across depth blocks and column blocks.
        shapes += [(1000, 16, 600), (35, 32, 300), (20, 48, 300), (17, 2064, 33), (24, 32, 7)]
        // 9 to 32 rows times a transposed row-major B (nt: x·Wᵀ): streamed (AVX2), or W·Aᵀ added
        // transposed (AVX-512).
        shapes += [(9, 700, 40), (32, 100, 300), (30, 1100, 6)]
        // Whole and partial 12 × 32 blocks of the AVX-512 micro-kernel, with single-tile and
        // single-panel remainders, across depth blocks.
        shapes += [(72, 96, 257), (150, 79, 40), (77, 1040, 3)]
        return shapes
    }()

    /// Each product of `kernels` is within 1e-6 of the float64 product relative to Σ|a·b| of its
    /// output (plus |C| when accumulating): float32 sums of up to 1000 terms in any order, with
    /// one rounding per fused multiply-add, stay well within that (the worst seen is printed).
    private func checkAgainstFloat64(_ kernels: KernelSet) throws {
        try skipUnlessAvailable(kernels)
        var generator = SeededGenerator(seed: 11)
        var worst = 0.0
        for layout in ["nn", "nt", "tn"] {
            for (m, n, k) in shapes {
                for accumulate in [false, true] {
                    let product = Product(layout: layout, m: m, n: n, k: k, accumulate: accumulate, generator: &generator)
                    let error = product.worstError(product.run(kernels))
                    XCTAssertLessThan(error, 1e-6, "\(kernels) \(layout) m \(m) n \(n) k \(k) accumulate \(accumulate)")
                    worst = max(worst, error)
                }
            }
        }
        print("\(kernels) GEMM vs float64 over \(shapes.count * 6) products: worst relative error \(worst)")
    }

    /// The AVX-512 micro-kernel reads the AVX2 kernel's tiles and panels and adds each output's
    /// terms in the same order with the same fused multiply-adds, so it must give the same floats;
    /// only products with a transposed B of one row (the AVX-512 GEMV) add in another order.
    func testAVX512GivesTheAVX2Values() throws {
        try skipUnlessAvailable(.avx512)
        var generator = SeededGenerator(seed: 12)
        for layout in ["nn", "nt", "tn"] {
            for (m, n, k) in shapes where !(layout == "nt" && m == 1) {
                for accumulate in [false, true] {
                    let product = Product(layout: layout, m: m, n: n, k: k, accumulate: accumulate, generator: &generator)
                    XCTAssertEqual(product.run(.avx512), product.run(.avx2), "\(layout) m \(m) n \(n) k \(k) accumulate \(accumulate)")
                }
            }
        }
    }

    /// A decoding batch's rows times a transposed weight (x·Wᵀ, 2 to 8 rows) give each row
    /// exactly what that row gets alone, whatever rows share the product: generation does not
    /// depend on the batch size. Odd n and k reach the kernel's partial tiles and scalar tails.
    func testStreamedRowsGiveEachRowsOwnProduct() throws {
        try skipUnlessAvailable(.avx2)
        var generator = SeededGenerator(seed: 13)
        let (n, k) = (70, 37)
        let weight = Tensor.uniform([n, k], in: -1..<1, using: &generator)
        let b = MatrixOperand(base: weight.pointer, rowStride: 1, columnStride: k)
        for m in 2...GEMM.smallRows {
            let rows = Tensor.uniform([m, k], in: -1..<1, using: &generator)
            let together = Tensor.zeros([m, n])
            GEMM.multiply(m: m, n: n, k: k, MatrixOperand(base: rows.pointer, rowStride: k, columnStride: 1), b,
                          into: together.pointer, ldc: n, accumulate: false, kernels: .avx2)
            for row in 0..<m {
                let alone = Tensor.zeros([1, n])
                GEMM.multiply(m: 1, n: n, k: k, MatrixOperand(base: rows.pointer + row * k, rowStride: k, columnStride: 1), b,
                              into: alone.pointer, ldc: n, accumulate: false, kernels: .avx2)
                XCTAssertEqual(Array(together.toArray()[row * n..<(row + 1) * n]), alone.toArray(), "m \(m) row \(row)")
            }
        }
    }

    func testZeroDepthOverwritesOrKeeps() {
        for kernels in KernelSet.allCases where kernels.isAvailable {
            let c = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
            let empty = MatrixOperand(base: c.pointer, rowStride: 0, columnStride: 1)
            GEMM.multiply(m: 2, n: 3, k: 0, empty, empty, into: c.pointer, ldc: 3, accumulate: true, kernels: kernels)
            XCTAssertEqual(c.toArray(), [1, 2, 3, 4, 5, 6], "\(kernels)")
            GEMM.multiply(m: 2, n: 3, k: 0, empty, empty, into: c.pointer, ldc: 3, accumulate: false, kernels: kernels)
            XCTAssertEqual(c.toArray(), [0, 0, 0, 0, 0, 0], "\(kernels)")
        }
    }

    func testPackedOperandsMatchTheUnpackedProduct() {
        var generator = SeededGenerator(seed: 13)
        for (m, n, k) in [(33, 7, 300), (1000, 33, 600), (7, 40, 33), (100, 70, 1)] {
            let a = Tensor.uniform([m, k], in: -1..<1, using: &generator), b = Tensor.uniform([n, k], in: -1..<1, using: &generator)
            let bT = MatrixOperand(base: b.pointer, rowStride: 1, columnStride: k)
            let aRows = MatrixOperand(base: a.pointer, rowStride: k, columnStride: 1)
            let expected = Tensor.zeros([m, n]), fromRows = Tensor.zeros([m, n]), fromColumns = Tensor.zeros([m, n])
            PortableGEMM.multiply(m: m, n: n, k: k, aRows, bT, into: expected.pointer, ldc: n, accumulate: false)
            GEMM.multiply(PackedRows(aRows, rows: m, depth: k), bT, n: n, into: fromRows.pointer, ldc: n, accumulate: false)
            let packedB = PackedOperand(bT, depth: k, columns: n, rowsToCome: m)
            packedB.multiply(m: m, aRows, columns: 0..<n, into: fromColumns.pointer, ldc: n)
            for (label, result) in [("PackedRows", fromRows), ("PackedOperand", fromColumns)] {
                let worst = zip(result.toArray(), expected.toArray()).map { Swift.abs($0 - $1) }.max() ?? 0
                XCTAssertLessThan(worst, 1e-4, "\(label) m \(m) n \(n) k \(k)")
            }
        }
    }
}

/// One product's operands (layout nn A·B, nt A·Bᵀ, tn Aᵀ·B) and its starting C, with one padding
/// column beyond n that no product may touch.
private struct Product {
    let m: Int, n: Int, k: Int, accumulate: Bool
    let a: Tensor, b: Tensor, initial: [Float]
    var ldc: Int { n + 3 }

    init(layout: String, m: Int, n: Int, k: Int, accumulate: Bool, generator: inout SeededGenerator) {
        (self.m, self.n, self.k, self.accumulate) = (m, n, k, accumulate)
        a = layout == "tn" ? Tensor.uniform([k, m], in: -1..<1, using: &generator).transposed()
                           : Tensor.uniform([m, k], in: -1..<1, using: &generator)
        b = layout == "nt" ? Tensor.uniform([n, k], in: -1..<1, using: &generator).transposed()
                           : Tensor.uniform([k, n], in: -1..<1, using: &generator)
        initial = Tensor.uniform([m, n + 3], in: -1..<1, using: &generator).toArray()
    }

    /// C after the product through `kernels`.
    func run(_ kernels: KernelSet) -> [Float] {
        let c = Tensor(shape: [m, ldc], values: initial)
        GEMM.multiply(m: m, n: n, k: k, MatrixOperand(base: a.pointer, rowStride: a.strides[0], columnStride: a.strides[1]),
                      MatrixOperand(base: b.pointer, rowStride: b.strides[0], columnStride: b.strides[1]),
                      into: c.pointer, ldc: ldc, accumulate: accumulate, kernels: kernels)
        return c.toArray()
    }

    /// The worst error of C against the float64 product, relative to Σ|a·b| of each output.
    func worstError(_ c: [Float]) -> Double {
        let (av, bv) = (a.toArray(), b.toArray())
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<ldc {
                guard j < n else {
                    XCTAssertEqual(c[i * ldc + j], initial[i * ldc + j], "padding beyond n must stay untouched")
                    continue
                }
                let initialValue = accumulate ? Double(initial[i * ldc + j]) : 0
                var exact = initialValue, scale = 1e-30 + Swift.abs(initialValue)
                for p in 0..<k {
                    let term = Double(av[i * k + p]) * Double(bv[p * n + j])
                    exact += term
                    scale += Swift.abs(term)
                }
                worst = max(worst, Swift.abs(Double(c[i * ldc + j]) - exact) / scale)
            }
        }
        return worst
    }
}
