import XCTest
@testable import FledgeTensor

/// llama.cpp's integer decoding products (`Int8DecodingProduct`): every kernel set the CPU runs
/// gives exactly the integer sums of the portable twin (and of a plain integer loop here), the
/// activation quantizer writes gguf-py's Q8_0 bytes, and the products differ from the exact float
/// ones only by the rounding of the activations.
final class Int8DecodingProductTests: XCTestCase {
    private let formats: [QuantizationFormat] = [.q8_0, .q4_0]
    /// (activation rows, weight rows): one decoding row, and batches, with odd weight-row counts.
    /// One row takes eight weight rows per pass in the AVX2 Q4_0 kernel: 8 and 67 (two threads'
    /// shares of 33 and 34) check whole groups of eight and the rows after them.
    private let shapes = [(1, 37), (1, 2), (1, 8), (1, 67), (3, 5), (8, 18)]

    func testAVX2KernelsGiveTheIntegerSums() throws { try checkIntegerSums(.avx2) }
    func testAVX512KernelsGiveTheIntegerSums() throws { try checkIntegerSums(.avx512) }
    func testAVX512VNNIKernelsGiveTheIntegerSums() throws { try checkIntegerSums(.avx512VNNI) }
    func testPortableTwinGivesTheIntegerSums() throws { try checkIntegerSums(.portable) }

    /// With every scale 1, each output is the integer Σ w·a over the row, which float32 holds
    /// exactly (the levels are bounded so that every partial sum stays below 2^24), so any
    /// summation order gives the same float: the kernels must equal the plain integer loop.
    private func checkIntegerSums(_ kernels: KernelSet) throws {
        try skipUnlessAvailable(kernels)
        var generator = SeededGenerator(seed: 25)
        for format in formats {
            for blocks in [1, 7, 33, 1000] {
                // Full ranges where the sums cannot pass 2^24, narrower ones for the long rows.
                let weightBound = format == .q4_0 ? 8 : blocks <= 7 ? 128 : blocks == 33 ? 100 : 20
                let activationBound = blocks <= 7 ? 127 : blocks == 33 ? 100 : 20
                for (m, rows) in blocks == 1000 ? shapes.filter({ $0.0 < 8 }) : shapes {
                    let k = blocks * 32
                    let (w, weightLevels) = unitScaleWeight(format, rows: rows, blocks: blocks, bound: weightBound, using: &generator)
                    let activationLevels = (0..<(m * k)).map { index -> Int in
                        // One ±127 per block makes its scale exactly 1.
                        index % 32 == 5 ? (index % 64 == 5 ? 127 : -127) : Int.random(in: -activationBound...activationBound, using: &generator)
                    }
                    var expected = [Float](repeating: 0, count: m * rows)
                    for i in 0..<m {
                        for r in 0..<rows {
                            var sum = 0
                            for j in 0..<k { sum += weightLevels[r * k + j] * activationLevels[i * k + j] }
                            expected[i * rows + r] = Float(sum)
                        }
                    }
                    let x = Tensor(shape: [m, k], values: activationLevels.map(Float.init))
                    let actual = product(x, w, kernels)
                    let differing = zip(actual, expected).filter { $0 != $1 }
                    XCTAssertTrue(differing.isEmpty, "\(kernels) \(format), \(blocks) blocks, \(m)×\(rows): \(differing.count) sums differ, first \(differing.first.map { "\($0) instead of \($1)" } ?? "")")
                }
            }
        }
    }

    /// Q4_0 levels and activations at the ends of their ranges (every weight level 7 or −8, every
    /// activation ±127, in blocks of one sign and of both): the AVX2 kernel sums the maddubs products of
    /// eight rows in int16 lanes before widening them, and no sum may wrap.
    func testQ4_0KernelsGiveTheIntegerSumsAtTheEndsOfTheRanges() throws {
        for kernels in KernelSet.allCases where kernels.isAvailable {
            for blocks in [1, 33] {
                let k = blocks * 32, rows = 19
                // Row r: level 7 or −8 by a pattern of the row; activations +127, −127, or alternating by block.
                let weightLevels = (0..<(rows * k)).map { index in (index / k) % 3 == 2 ? (index % 5 == 0 ? -8 : 7) : (index / k) % 3 == 0 ? 7 : -8 }
                let activationLevels = (0..<k).map { j in (j / 32) % 3 == 0 ? 127 : (j / 32) % 3 == 1 ? -127 : (j % 2 == 0 ? 127 : -127) }
                var bytes: [UInt8] = []
                for r in 0..<rows {
                    for b in 0..<blocks {
                        let level = { (j: Int) in UInt8(weightLevels[r * k + b * 32 + j] + 8) }
                        bytes += [0x00, 0x3C] + (0..<16).map { level($0) | level($0 + 16) << 4 }
                    }
                }
                let w = try QuantizedMatrix(format: .q4_0, rows: rows, columns: k, blocks: bytes, name: "w")
                let expected = (0..<rows).map { r in Float((0..<k).reduce(0) { $0 + weightLevels[r * k + $1] * activationLevels[$1] }) }
                let actual = product(Tensor(shape: [1, k], values: activationLevels.map(Float.init)), w, kernels)
                XCTAssertEqual(actual, expected, "\(kernels), \(blocks) blocks")
            }
        }
    }

    /// On ordinary weights and activations the kernels equal the twin up to the order of the float
    /// additions, and the twin equals the float product with the dequantized weight up to the
    /// rounding of the activations: each is off by at most half its block's scale d_a, so an
    /// output is off by at most Σ_blocks d_a/2 · Σ|w| over the block (plus float rounding).
    func testKernelsMatchTheTwinAndTheFloatProduct() throws {
        var generator = SeededGenerator(seed: 18)
        let (rows, k) = (45, 33 * 32)
        for format in formats {
            let w = try QuantizedMatrix(quantizing: Tensor.normal([rows, k], standardDeviation: 0.05, using: &generator), format: format, name: "w")
            let dense = w.dequantized(), magnitudes = w.dequantized().toArray().map(abs)
            for m in [1, 4] {
                let x = Tensor.normal([m, k], standardDeviation: 1, using: &generator)
                let twin = product(x, w, .portable)
                let exact = x.matmul(dense.transposed()).toArray()
                let scales = x.toArray().withUnsafeBufferPointer {
                    QuantizedActivations(rows: m, columns: k, MatrixOperand(base: $0.baseAddress!, rowStride: k, columnStride: 1), vectorized: false).scales
                }
                for i in 0..<m {
                    for r in 0..<rows {
                        var bound: Float = 0
                        for b in 0..<(k / 32) {
                            bound += scales[i * (k / 32) + b] / 2 * magnitudes[(r * k + b * 32)..<(r * k + b * 32 + 32)].reduce(0, +)
                        }
                        let error = abs(twin[i * rows + r] - exact[i * rows + r])
                        XCTAssertLessThanOrEqual(error, bound * 1.001 + 1e-5 * abs(exact[i * rows + r]), "\(format): output (\(i), \(r))")
                    }
                }
                XCTAssertGreaterThan(maxRelativeError(twin, exact), 0, "\(format): the activations are rounded")
                for kernels in KernelSet.allCases where kernels.isAvailable && kernels != .portable {
                    XCTAssertLessThan(maxRelativeError(product(x, w, kernels), twin), 1e-5, "\(kernels) \(format), \(m) rows")
                }
            }
        }
    }

    /// The activation quantizer writes exactly gguf-py's Q8_0 blocks (`quantization.safetensors`,
    /// `Scripts/reference/make_quant_fixtures.py`): the levels, and the scale as float16.
    func testActivationQuantizerWritesGGUFPyQ8_0Bytes() throws {
        let file = try Fixtures.open("quantization.safetensors")
        let values: [Float] = try file.tensor("q8_0/weights").toArray()
        let blocks = try file.integers("q8_0/blocks").map { UInt8($0) }
        for vectorized in [false, CPU.hasAVX2] {
            let activations = quantize(values, vectorized: vectorized)
            for b in 0..<(values.count / 32) {
                let block = Array(blocks[(b * 34)..<(b * 34 + 34)])
                XCTAssertEqual(activations.levels[(b * 32)..<(b * 32 + 32)].map { UInt8(bitPattern: $0) }, Array(block[2...]),
                               "levels of block \(b), vectorized: \(vectorized)")
                let scale = block.withUnsafeBytes { BlockBytes(base: $0.baseAddress!).float16(at: 0) }
                XCTAssertEqual(activations.scales[b].bitPattern, scale.bitPattern, "scale of block \(b), vectorized: \(vectorized)")
                XCTAssertEqual(activations.sums[b], activations.levels[(b * 32)..<(b * 32 + 32)].reduce(0) { $0 + Int32($1) })
            }
        }
    }

    /// Ties round away from zero (C's roundf, as ggml's reference quantizer), and zero, tiny and
    /// huge blocks quantize as `Q8_0.quantize` does, in the AVX2 quantizer too.
    func testAVX2ActivationQuantizerMatchesTheTwinOnEdgeCases() throws {
        try XCTSkipUnless(CPU.hasAVX2, "the AVX2 quantizer needs avx2 fma f16c")
        var generator = SeededGenerator(seed: 7)
        var values = [Float](repeating: 0, count: 32)  // all zero
        values.append(127)
        for j in 1..<32 { values.append(Float(j % 2 == 0 ? j : -j) + 0.5) }  // ties: x.5 at scale 1
        let ranges: [(ClosedRange<Float>, Int)] = [(-1e-30...1e-30, 32), (-1e30...1e30, 32), (-3...3, 64)]  // scales below and above float16's range
        for (range, count) in ranges {
            for _ in 0..<count { values.append(Float.random(in: range, using: &generator)) }
        }
        let twin = quantize(values, vectorized: false), vectorized = quantize(values, vectorized: true)
        XCTAssertEqual(vectorized.levels, twin.levels)
        XCTAssertEqual(vectorized.scales.map(\.bitPattern), twin.scales.map(\.bitPattern))
        XCTAssertEqual(vectorized.sums, twin.sums)
        XCTAssertEqual(Array(twin.levels[33..<36]), [-1, 3, -3], "−0.5 → −1, 2.5 → 3, −2.5 → −3")
    }

    /// Decoding inside `Tensor.withQuantizedActivations` takes the integer product for Q8_0 and
    /// Q4_0 with at most 8 rows, and the exact product otherwise.
    func testScopeChoosesTheIntegerProductOnlyForDecodingRows() throws {
        var generator = SeededGenerator(seed: 3)
        let weight = Tensor.normal([24, 256], standardDeviation: 0.1, using: &generator)
        for format in QuantizationFormat.allCases {
            let w = try QuantizedMatrix(quantizing: weight, format: format, name: "w")
            for m in [1, 8, 9] {
                let x = Tensor.normal([m, 256], standardDeviation: 1, using: &generator)
                let exact = Tensor.withoutGrad { x.matmul(transposedQuantized: w) }.toArray()
                let scoped = Tensor.withoutGrad { Tensor.withQuantizedActivations { x.matmul(transposedQuantized: w) } }.toArray()
                if Int8DecodingProduct.supports(format) && m <= 8 {
                    XCTAssertEqual(scoped, product(x, w, CPU.kernelSet), "\(format), \(m) rows")
                } else {
                    XCTAssertEqual(scoped, exact, "\(format), \(m) rows")
                }
            }
        }
    }

    // MARK: - Helpers

    /// A weight whose blocks all have scale 1 (float16 0x3C00) and random levels within
    /// ±`bound` (Q4_0: −8…7), and those levels as integers, row-major.
    private func unitScaleWeight(
        _ format: QuantizationFormat, rows: Int, blocks: Int, bound: Int, using generator: inout SeededGenerator
    ) -> (QuantizedMatrix, [Int]) {
        var bytes: [UInt8] = [], levels: [Int] = []
        for _ in 0..<(rows * blocks) {
            bytes += [0x00, 0x3C]
            let block = (0..<32).map { _ in format == .q4_0 ? Int.random(in: -8...7, using: &generator) : Int.random(in: -bound...(bound - 1), using: &generator) }
            levels += block
            if format == .q4_0 {
                bytes += (0..<16).map { UInt8(block[$0] + 8) | UInt8(block[$0 + 16] + 8) << 4 }
            } else {
                bytes += block.map { UInt8(bitPattern: Int8($0)) }
            }
        }
        return (try! QuantizedMatrix(format: format, rows: rows, columns: blocks * 32, blocks: bytes, name: "w"), levels)
    }

    private func product(_ x: Tensor, _ w: QuantizedMatrix, _ kernels: KernelSet) -> [Float] {
        let m = x.shape[0]
        let out = Tensor(uninitializedShape: [m, w.rows])
        Int8DecodingProduct.multiplyTransposed(m: m, x.matrixOperand, w, into: out.pointer, ldc: w.rows, kernels: kernels)
        return out.toArray()
    }

    private func quantize(_ values: [Float], vectorized: Bool) -> QuantizedActivations {
        values.withUnsafeBufferPointer {
            QuantizedActivations(rows: 1, columns: values.count, MatrixOperand(base: $0.baseAddress!, rowStride: values.count, columnStride: 1),
                                 vectorized: vectorized)
        }
    }

    private func maxRelativeError(_ actual: [Float], _ expected: [Float]) -> Float {
        let scale = expected.reduce(Float(0)) { max($0, abs($1)) }
        return zip(actual, expected).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) } / scale
    }
}
