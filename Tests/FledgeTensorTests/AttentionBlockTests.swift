import XCTest
@testable import FledgeTensor

/// Attention on sequences longer than one query block (72 rows), with grouped-query heads,
/// left padding, a sliding window and a cache offset: the forward matches the float64
/// reference, and the gradients match its directional finite differences (Σ grad·u against
/// (f(x + εu) − f(x − εu)) / 2ε for a random direction u per input).
final class AttentionBlockTests: XCTestCase {
    private struct Case {
        let name: String
        let batch, querySeq, keySeq, heads, kvHeads, headDim: Int
        let padding: [Float]?
        let window: Int?
    }

    private let cases = [
        Case(name: "three query blocks, padding", batch: 2, querySeq: 150, keySeq: 150, heads: 4, kvHeads: 2, headDim: 8,
             padding: (0..<300).map { $0 >= 150 && $0 < 170 ? 0 : 1 }, window: nil),
        Case(name: "sliding window", batch: 1, querySeq: 100, keySeq: 100, heads: 2, kvHeads: 1, headDim: 8, padding: nil, window: 30),
        Case(name: "queries after a cache", batch: 1, querySeq: 70, keySeq: 150, heads: 3, kvHeads: 3, headDim: 8, padding: nil, window: nil),
    ]

    func testBlockedAttentionMatchesTheFloat64Reference() {
        var generator = SeededGenerator(seed: 21)
        for test in cases {
            let q = Tensor.uniform([test.batch, test.querySeq, test.heads, test.headDim], in: -1..<1, using: &generator)
            let k = Tensor.uniform([test.batch, test.keySeq, test.kvHeads, test.headDim], in: -1..<1, using: &generator)
            let v = Tensor.uniform([test.batch, test.keySeq, test.kvHeads, test.headDim], in: -1..<1, using: &generator)
            let upstream = Tensor.uniform(q.shape, in: -1..<1, using: &generator)
            let inputs = [q, k, v]
            for input in inputs { input.requiresGrad = true }
            let mask = AttentionMask(causal: true, keyPadding: test.padding, slidingWindow: test.window)
            let out = Tensor.scaledDotProductAttention(query: q, key: k, value: v, mask: mask)
            (out * upstream).sum().backward()

            let keyMask = test.padding.map { $0.map(Double.init) } ?? Array(repeating: 1, count: test.batch * test.keySeq)
            let reference = { (x: [DTensor]) in ReferenceFused.attention(x[0], x[1], x[2], keyMask: keyMask, window: test.window) }
            let point = inputs.map(DTensor.init)
            print("\(test.name):")
            assertClose(out, reference(point), tolerance: Tolerance.reduction, "forward")

            let g = DTensor(upstream)
            func loss(_ x: [DTensor]) -> Double { zip(reference(x).values, g.values).reduce(0) { $0 + $1.0 * $1.1 } }
            for (index, input) in inputs.enumerated() {
                let direction = DTensor(Tensor.uniform(input.shape, in: -1..<1, using: &generator))
                let analytic = zip(input.grad!.toArray(), direction.values).reduce(0.0) { $0 + Double($1.0) * $1.1 }
                let epsilon = 1e-5
                var plus = point, minus = point
                plus[index] = point[index] + direction.map { $0 * epsilon }
                minus[index] = point[index] - direction.map { $0 * epsilon }
                let numeric = (loss(plus) - loss(minus)) / (2 * epsilon)
                let error = Swift.abs(analytic - numeric) / Swift.max(Swift.abs(numeric), 1e-3)
                print(String(format: "  grad%d · u: %.6f vs finite differences %.6f (rel %.1e)", index, analytic, numeric, error))
                XCTAssertLessThan(error, Tolerance.reduction, "\(test.name) grad\(index)")
            }
        }
    }
}
