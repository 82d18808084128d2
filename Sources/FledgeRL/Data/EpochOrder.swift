import FledgeTensor

/// The order rows are visited in one pass over a dataset: a Fisher–Yates shuffle seeded by the data
/// seed and the epoch, so that the order is a pure function of both and a resumed run needs no saved
/// generator state.
enum EpochOrder {
    /// The indices `0..<count` shuffled for `epoch` with `seed`: a generator seeded with `mixedSeed(seed, epoch)`,
    /// so that each epoch's order is unrelated to the others'.
    static func shuffled(count: Int, seed: UInt64, epoch: Int) -> [Int] {
        var generator = SeededGenerator(seed: mixedSeed(seed, UInt64(epoch)))
        var order = Array(0..<count)
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(i, Int(generator.next() % UInt64(i + 1)))
        }
        return order
    }

    /// The micro-batches `batches` of `epoch`, each the indices of up to `batchSize` rows.
    static func microBatches(_ batches: Range<Int>, batchSize: Int, count: Int, seed: UInt64, epoch: Int) -> [[Int]] {
        slices(batches, of: shuffled(count: count, seed: seed, epoch: epoch), batchSize: batchSize)
    }

    /// The micro-batches `batches` of `epoch` in the order `strategy` visits the rows: shuffled,
    /// in file order, or grouped by `lengths` as transformers' `get_length_grouped_indices` groups
    /// them for optimizer batches of `optimizerBatch` rows (the shuffle is Fledge's seeded one).
    static func microBatches(_ batches: Range<Int>, batchSize: Int, count: Int, seed: UInt64, epoch: Int,
                             strategy: TrainSamplingStrategy, lengths: [Int], optimizerBatch: Int) -> [[Int]] {
        let order: [Int]
        switch strategy {
        case .random, .batchRebalance: order = shuffled(count: count, seed: seed, epoch: epoch)
        case .sequential: order = Array(0..<count)
        case .groupByLength:
            order = groupedByLength(shuffled(count: count, seed: seed, epoch: epoch), lengths: lengths, optimizerBatch: optimizerBatch)
        }
        return slices(batches, of: order, batchSize: batchSize)
    }

    /// transformers' `get_length_grouped_indices` on a shuffled `order`: mega-batches of
    /// min(count / (4 · optimizerBatch), 50) (at least 1) optimizer batches, each sorted by length
    /// longest first (a stable sort, as Python's `sorted`), then the longest row of all swapped into
    /// the first place.
    static func groupedByLength(_ order: [Int], lengths: [Int], optimizerBatch: Int) -> [Int] {
        let multiple = Swift.max(Swift.min(order.count / (optimizerBatch * 4), 50), 1)
        let size = multiple * optimizerBatch
        var megaBatches = stride(from: 0, to: order.count, by: size).map { start in
            Array(order[start..<Swift.min(start + size, order.count)]).enumerated()
                .sorted { lengths[$0.element] != lengths[$1.element] ? lengths[$0.element] > lengths[$1.element] : $0.offset < $1.offset }
                .map(\.element)
        }
        guard !megaBatches.isEmpty else { return [] }
        // torch.argmax takes the first maximum.
        var longest = 0
        for index in megaBatches.indices where lengths[megaBatches[index][0]] > lengths[megaBatches[longest][0]] { longest = index }
        (megaBatches[0][0], megaBatches[longest][0]) = (megaBatches[longest][0], megaBatches[0][0])
        return megaBatches.flatMap { $0 }
    }

    private static func slices(_ batches: Range<Int>, of order: [Int], batchSize: Int) -> [[Int]] {
        batches.map { Array(order[$0 * batchSize..<Swift.min(($0 + 1) * batchSize, order.count)]) }
    }
}
