import XCTest
@testable import FledgeTensor

/// The fused attention with soft-capped scores (Gemma 2's `attn_logit_softcapping`) gives what
/// PyTorch gives (Gemma 2's eager attention in float64, `make_op_fixtures.py`) and what its
/// portable twin — the `[batch, heads, queries, keys]` scores formed whole, `cap · tanh(s / cap)`,
/// masked, softmax, times v — gives, with gradients for q, k and v, on non-square shapes: grouped
/// heads, more keys than queries (a cache step), left padding and a sliding window.
final class SoftCappedAttentionTests: XCTestCase {
    private let (batch, querySeq, keySeq, heads, kvHeads, headDim) = (2, 5, 7, 4, 2, 6)
    private let (scale, cap): (Float, Float) = (0.3, 1.2)
    private let mask = AttentionMask(causal: true, keyPadding: [1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1], slidingWindow: 4)

    /// The output and the gradients of Σ output · weights for q, k and v.
    private func run(fused: Bool) -> [Tensor] {
        var generator = SeededGenerator(seed: 9)
        let q = Tensor.normal([batch, querySeq, heads, headDim], standardDeviation: 2, using: &generator)
        let k = Tensor.normal([batch, keySeq, kvHeads, headDim], standardDeviation: 2, using: &generator)
        let v = Tensor.normal([batch, keySeq, kvHeads, headDim], standardDeviation: 1, using: &generator)
        let weights = Tensor.normal([batch, querySeq, heads, headDim], standardDeviation: 1, using: &generator)
        for x in [q, k, v] { x.requiresGrad = true }
        let out = fused ? Tensor.scaledDotProductAttention(query: q, key: k, value: v, mask: mask, scale: scale, softCap: cap)
                        : twin(q, k, v)
        (out * weights).sum().backward()
        return [out, q.grad!, k.grad!, v.grad!]
    }

    /// The soft-capped attention from differentiable operations.
    private func twin(_ query: Tensor, _ key: Tensor, _ value: Tensor) -> Tensor {
        let group = heads / kvHeads
        func repeated(_ x: Tensor) -> Tensor {
            x.reshaped([batch, keySeq, kvHeads, 1, headDim]).expanded(to: [batch, keySeq, kvHeads, group, headDim])
                .reshaped([batch, keySeq, heads, headDim]).permuted([0, 2, 1, 3])
        }
        let scores = query.permuted([0, 2, 1, 3]).matmul(repeated(key).transposed()) * scale
        let capped = (scores / cap).tanh() * cap
        let blocked = Tensor(shape: [batch, 1, querySeq, keySeq]) { out in
            for b in 0..<batch {
                for i in 0..<querySeq {
                    let position = i + keySeq - querySeq
                    for j in 0..<keySeq {
                        let hidden = j > position || j <= position - mask.slidingWindow! || mask.keyPadding![b * keySeq + j] == 0
                        out[(b * querySeq + i) * keySeq + j] = hidden ? 1 : 0
                    }
                }
            }
        }
        return capped.maskedFill(blocked, -.infinity).softmax(axis: -1).matmul(repeated(value)).permuted([0, 2, 1, 3])
    }

    func testSoftCappedAttentionAndGradientsMatchThePortableTwin() {
        let fused = run(fused: true), reference = run(fused: false)
        for (index, (got, expected)) in zip(fused, reference).enumerated() {
            assertClose(got, DTensor(expected.contiguous()), tolerance: 1e-5, ["output", "dq", "dk", "dv"][index])
        }
    }

    /// Against PyTorch, within 1e-4 relative (the tolerance of every fused op): a prefill with 6
    /// query heads over 2 key/value heads, left padding (two rows that see no key, which output 0)
    /// and a window of 3; and a cache step of 3 queries over 8 keys with padding and a window of 4.
    func testSoftCappedAttentionAndGradientsMatchPyTorch() throws {
        let file = try Fixtures.gemmaOps.get()
        for name in ["soft_capped_attention", "soft_capped_attention_cache_step"] {
            let fixture = OpFixture(file: file, name: name)
            let mask = AttentionMask(causal: true, keyPadding: try fixture.tensor("key_mask").toArray(),
                                     slidingWindow: Int(try fixture.scalar("window")))
            let (scale, cap) = (try fixture.scalar("scale"), try fixture.scalar("cap"))
            try fixture.assertMatchesPyTorch(tolerance: Tolerance.reduction, name) { x in
                Tensor.scaledDotProductAttention(query: x[0], key: x[1], value: x[2], mask: mask, scale: scale, softCap: cap)
            }
        }
    }

    func testTheCapBitesOnTheseInputs() {
        let capped = run(fused: true)[0]
        var generator = SeededGenerator(seed: 9)
        let q = Tensor.normal([batch, querySeq, heads, headDim], standardDeviation: 2, using: &generator)
        let k = Tensor.normal([batch, keySeq, kvHeads, headDim], standardDeviation: 2, using: &generator)
        let v = Tensor.normal([batch, keySeq, kvHeads, headDim], standardDeviation: 1, using: &generator)
        let plain = Tensor.scaledDotProductAttention(query: q, key: k, value: v, mask: mask, scale: scale)
        let change = zip(capped.toArray(), plain.toArray()).map { abs($0 - $1) }.max()!
        XCTAssertGreaterThan(change, 0.1, "the cap changes the output")
    }
}
