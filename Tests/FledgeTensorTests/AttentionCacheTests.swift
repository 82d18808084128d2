import XCTest
@testable import FledgeTensor

/// Decoding one token at a time against a preallocated KV cache (keys and values read as
/// strided views of the cache) gives what full causal attention gives for the same positions.
final class AttentionCacheTests: XCTestCase {
    private func random(_ shape: [Int], _ generator: inout SeededGenerator) -> Tensor {
        Tensor.uniform(shape, in: -1..<1, using: &generator)
    }

    func testIncrementalDecodingWithACacheMatchesFullAttention() {
        var generator = SeededGenerator(seed: 3)
        let (batch, seq, heads, kvHeads, dim, capacity) = (2, 6, 4, 2, 8, 10)
        let q = random([batch, seq, heads, dim], &generator)
        let k = random([batch, seq, kvHeads, dim], &generator)
        let v = random([batch, seq, kvHeads, dim], &generator)
        let padding: [Float] = [1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1]
        let full = Tensor.scaledDotProductAttention(query: q, key: k, value: v, mask: AttentionMask(keyPadding: padding))

        let keyCache = Tensor.zeros([batch, capacity, kvHeads, dim]), valueCache = Tensor.zeros([batch, capacity, kvHeads, dim])
        var worst: Float = 0
        for step in 0..<seq {
            for (cache, source) in [(keyCache, k), (valueCache, v)] {
                for b in 0..<batch {
                    let row = source.slice(axis: 0, b..<b + 1).slice(axis: 1, step..<step + 1).toArray()
                    cache.withUnsafeMutableElements { buffer in
                        for (i, value) in row.enumerated() { buffer[((b * capacity + step) * kvHeads) * dim + i] = value }
                    }
                }
            }
            let keys = keyCache.slice(axis: 1, 0..<step + 1), values = valueCache.slice(axis: 1, 0..<step + 1)
            XCTAssertFalse(keys.isContiguous, "the cache is read in place")
            let stepPadding = (0..<batch).flatMap { b in padding[(b * seq)..<(b * seq + step + 1)] }
            let out = Tensor.scaledDotProductAttention(
                query: q.slice(axis: 1, step..<step + 1), key: keys, value: values, mask: AttentionMask(keyPadding: stepPadding))
            let expected = full.slice(axis: 1, step..<step + 1).toArray()
            for (a, e) in zip(out.toArray(), expected) { worst = max(worst, abs(a - e)) }
        }
        print("cached decoding vs full attention: max abs \(worst)")
        XCTAssertLessThan(worst, 1e-6)
    }

    func testSlidingWindowLimitsTheKeysSeen() {
        var generator = SeededGenerator(seed: 5)
        let q = random([1, 5, 2, 4], &generator), k = random([1, 5, 1, 4], &generator), v = random([1, 5, 1, 4], &generator)
        let windowed = Tensor.scaledDotProductAttention(query: q, key: k, value: v, mask: AttentionMask(slidingWindow: 2))
        // With a window of 2, the last query sees keys 3 and 4 only: the same as attending to that slice.
        let last = Tensor.scaledDotProductAttention(
            query: q.slice(axis: 1, 4..<5), key: k.slice(axis: 1, 3..<5), value: v.slice(axis: 1, 3..<5), mask: AttentionMask())
        for (a, e) in zip(windowed.slice(axis: 1, 4..<5).toArray(), last.toArray()) { XCTAssertEqual(a, e, accuracy: 1e-6) }
    }

    /// A decoding step multiplies the query heads of a key head together (one product per key
    /// head); each head's output must be bit for bit what it gets alone, with padding and a soft cap,
    /// for 3 query heads per key head and keys that are a strided view of a larger cache.
    func testADecodingStepGivesEachHeadWhatItGetsAlone() {
        var generator = SeededGenerator(seed: 11)
        let (batch, keys, heads, kvHeads, dim) = (2, 7, 6, 2, 8)
        let group = heads / kvHeads
        let q = random([batch, 1, heads, dim], &generator)
        let k = random([batch, keys + 3, kvHeads, dim], &generator).slice(axis: 1, 0..<keys)
        let v = random([batch, keys + 3, kvHeads, dim], &generator).slice(axis: 1, 0..<keys)
        let padding: [Float] = [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1]
        let mask = AttentionMask(keyPadding: padding)
        let together = Tensor.scaledDotProductAttention(query: q, key: k, value: v, mask: mask, softCap: 0.8)
        for h in 0..<heads {
            let kh = h / group
            let alone = Tensor.scaledDotProductAttention(
                query: q.slice(axis: 2, h..<h + 1), key: k.slice(axis: 2, kh..<kh + 1), value: v.slice(axis: 2, kh..<kh + 1),
                mask: mask, softCap: 0.8)
            XCTAssertEqual(together.reshaped([batch, heads, dim]).slice(axis: 1, h..<h + 1).toArray(), alone.toArray(), "head \(h)")
        }
        // And the step is the last row of attention over the whole sequence (the blocked path).
        let queries = random([batch, keys, heads, dim], &generator)
        let lastQuery = queries.slice(axis: 1, keys - 1..<keys)
        let stepped = Tensor.scaledDotProductAttention(query: lastQuery, key: k, value: v, mask: mask, softCap: 0.8)
        let full = Tensor.scaledDotProductAttention(query: queries, key: k, value: v, mask: mask, softCap: 0.8)
        for (a, e) in zip(stepped.toArray(), full.slice(axis: 1, keys - 1..<keys).toArray()) { XCTAssertEqual(a, e, accuracy: 1e-6) }
    }
}
