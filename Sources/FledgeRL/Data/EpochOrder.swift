import FledgeTensor

/// The order rows are visited in one pass over a dataset: a Fisher–Yates shuffle seeded by the data
/// seed and the epoch, so that the order is a pure function of both and a resumed run needs no saved
/// generator state.
enum EpochOrder {
    /// The indices `0..<count` shuffled for `epoch` with `seed`.
    static func shuffled(count: Int, seed: UInt64, epoch: Int) -> [Int] {
        var generator = SeededGenerator(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
        var order = Array(0..<count)
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(i, Int(generator.next() % UInt64(i + 1)))
        }
        return order
    }

    /// The micro-batches `batches` of `epoch`, each the indices of up to `batchSize` rows.
    static func microBatches(_ batches: Range<Int>, batchSize: Int, count: Int, seed: UInt64, epoch: Int) -> [[Int]] {
        let order = shuffled(count: count, seed: seed, epoch: epoch)
        return batches.map { Array(order[$0 * batchSize..<Swift.min(($0 + 1) * batchSize, count)]) }
    }
}
