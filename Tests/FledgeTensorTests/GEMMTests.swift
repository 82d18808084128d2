import XCTest
@testable import FledgeTensor

/// The fast GEMM (AVX2 micro-kernel, packing, small-row paths) and the portable one both
/// match a float64 product on odd sizes, in every layout, overwriting and accumulating.
final class GEMMTests: XCTestCase {
    private typealias Kernel = (Int, Int, Int, MatrixOperand, MatrixOperand, UnsafeMutablePointer<Float>, Int, Bool) -> Void

    private let kernels: [(String, Kernel)] = [
        ("fast", { GEMM.multiply(m: $0, n: $1, k: $2, $3, $4, into: $5, ldc: $6, accumulate: $7) }),
        ("portable", { PortableGEMM.multiply(m: $0, n: $1, k: $2, $3, $4, into: $5, ldc: $6, accumulate: $7) }),
    ]

    /// Runs one product and returns the worst error relative to Σ|a·b| of each output.
    private func worstError(_ kernel: Kernel, layout: String, m: Int, n: Int, k: Int, accumulate: Bool,
                            generator: inout SeededGenerator) -> Double {
        let a = layout == "tn" ? Tensor.uniform([k, m], in: -1..<1, using: &generator).transposed()
                               : Tensor.uniform([m, k], in: -1..<1, using: &generator)
        let b = layout == "nt" ? Tensor.uniform([n, k], in: -1..<1, using: &generator).transposed()
                               : Tensor.uniform([k, n], in: -1..<1, using: &generator)
        let ldc = n + 3  // a padded output exercises ldc
        let initial = Tensor.uniform([m, ldc], in: -1..<1, using: &generator)
        let c = Tensor(shape: [m, ldc], values: initial.toArray())
        kernel(m, n, k, MatrixOperand(base: a.pointer, rowStride: a.strides[0], columnStride: a.strides[1]),
               MatrixOperand(base: b.pointer, rowStride: b.strides[0], columnStride: b.strides[1]), c.pointer, ldc, accumulate)
        let (av, bv, cv, start) = (a.toArray(), b.toArray(), c.toArray(), initial.toArray())
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<ldc {
                guard j < n else {
                    XCTAssertEqual(cv[i * ldc + j], start[i * ldc + j], "padding beyond n must stay untouched")
                    continue
                }
                let initialValue = accumulate ? Double(start[i * ldc + j]) : 0
                var exact = initialValue, scale = 1e-30 + Swift.abs(initialValue)
                for p in 0..<k {
                    let term = Double(av[i * k + p]) * Double(bv[p * n + j])
                    exact += term
                    scale += Swift.abs(term)
                }
                worst = max(worst, Swift.abs(Double(cv[i * ldc + j]) - exact) / scale)
            }
        }
        return worst
    }

    func testFastAndPortableKernelsMatchFloat64OnOddSizes() {
        var generator = SeededGenerator(seed: 11)
        let sizes = [1, 7, 33, 1000]
        var shapes: [(Int, Int, Int)] = []
        for m in sizes { for n in sizes { for k in sizes where [m, n, k].filter({ $0 == 1000 }).count <= 1 { shapes.append((m, n, k)) } } }
        shapes.append((13, 4100, 5))  // more columns than one packed block of B
        shapes += [(5, 33, 1000), (8, 7, 33), (6, 100, 17)]  // the 8-row decoding path
        // Narrow products read A in place; short ones with whole panels read B in place (nn, tn),
        // across depth blocks and column blocks.
        shapes += [(1000, 16, 600), (35, 32, 300), (20, 48, 300), (17, 2064, 33), (24, 32, 7)]
        // 9 to 32 rows times a transposed row-major B (nt: x·Wᵀ) compute W·Aᵀ and add it transposed.
        shapes += [(9, 700, 40), (32, 100, 300), (30, 1100, 6)]
        for (name, kernel) in kernels {
            var worst = 0.0
            for layout in ["nn", "nt", "tn"] {
                for (m, n, k) in shapes {
                    for accumulate in [false, true] {
                        let error = worstError(kernel, layout: layout, m: m, n: n, k: k, accumulate: accumulate, generator: &generator)
                        XCTAssertLessThan(error, 1e-6, "\(name) \(layout) m \(m) n \(n) k \(k) accumulate \(accumulate)")
                        worst = max(worst, error)
                    }
                }
            }
            print("\(name) GEMM vs float64 over \(shapes.count * 6) products: worst relative error \(worst)")
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

    func testZeroDepthOverwritesOrKeeps() {
        for (_, kernel) in kernels {
            let c = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
            let empty = MatrixOperand(base: c.pointer, rowStride: 0, columnStride: 1)
            kernel(2, 3, 0, empty, empty, c.pointer, 3, true)
            XCTAssertEqual(c.toArray(), [1, 2, 3, 4, 5, 6])
            kernel(2, 3, 0, empty, empty, c.pointer, 3, false)
            XCTAssertEqual(c.toArray(), [0, 0, 0, 0, 0, 0])
        }
    }
}
