import FledgeTensor

/// Runs an optimizer's elementwise update on all cores: every parameter's elements are cut into
/// chunks of at most `size` (a whole number of 8-bit state blocks), and the chunks, from all
/// parameters together, are shared among the workers. Many small tensors (LoRA adapters) thus
/// use every core as well as one large tensor does.
enum ParallelChunks {
    /// Elements per chunk: large enough to amortise the dispatch, small enough to balance.
    static let size = 1 << 16

    /// Calls `body(item, range)` for chunks `range` of `counts[item]` elements, in parallel.
    static func forEach(counts: [Int], _ body: (_ item: Int, _ range: Range<Int>) -> Void) {
        var chunks: [(item: Int, range: Range<Int>)] = []
        for (item, count) in counts.enumerated() {
            for start in stride(from: 0, to: count, by: size) { chunks.append((item, start..<min(start + size, count))) }
        }
        Parallel.forRanges(chunks.count) { range in
            for chunk in chunks[range] { body(chunk.item, chunk.range) }
        }
    }
}
