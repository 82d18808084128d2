import Foundation
import XCTest
@testable import FledgeRL

/// `train_sampling_strategy`: `group_by_length` groups a shuffled order exactly as transformers 5.25's
/// `get_length_grouped_indices` does (the shuffle itself is Fledge's seeded one); `sequential` keeps
/// file order; what TRL cannot do, or ignores, is refused or noted.
final class TrainSamplingStrategyTests: XCTestCase {
    /// Recorded from `get_length_grouped_indices(lengths, batch_size, generator=g)` with the permutation
    /// `torch.randperm(n, generator=g)` draws (seed 5), lengths with ties.
    func testGroupingByLengthMatchesTransformers() {
        let cases: [(batch: Int, lengths: [Int], permutation: [Int], expected: [Int])] = [
            (2, [5, 8, 6, 1, 4, 4, 4, 8, 2, 4, 6, 3, 5, 8, 7, 1, 1, 5, 3, 2, 7, 8, 8],
             [3, 11, 18, 8, 22, 21, 6, 16, 1, 13, 7, 17, 15, 12, 14, 9, 20, 0, 10, 2, 19, 4, 5],
             [22, 18, 8, 3, 11, 21, 6, 16, 1, 13, 7, 17, 14, 12, 9, 15, 20, 10, 2, 0, 4, 5, 19]),
            (3, [7, 1, 2, 6, 2, 6, 1, 2, 5, 4, 1, 4, 6, 7, 8, 8, 1, 3, 4, 1, 2, 4, 6, 4, 4, 7, 8, 1, 2, 2, 2, 8, 1, 8, 3, 5, 8, 4, 7, 4],
             [11, 16, 37, 25, 30, 20, 6, 33, 1, 29, 9, 13, 23, 21, 5, 28, 31, 27, 39, 38, 10, 19, 15, 17, 36, 32, 12, 8, 18, 2, 34,
              24, 14, 26, 0, 35, 3, 22, 7, 4],
             [33, 25, 11, 37, 30, 20, 16, 6, 1, 31, 13, 5, 9, 23, 21, 29, 28, 27, 15, 36, 38, 12, 39, 17, 10, 19, 32, 14, 26, 0, 8,
              35, 18, 24, 34, 2, 3, 22, 7, 4]),
        ]
        for (batch, lengths, permutation, expected) in cases {
            XCTAssertEqual(EpochOrder.groupedByLength(permutation, lengths: lengths, optimizerBatch: batch), expected)
        }
    }

    func testSequentialKeepsFileOrderAndRandomIsTheSeededShuffle() {
        let sequential = EpochOrder.microBatches(0..<3, batchSize: 4, count: 10, seed: 7, epoch: 1, strategy: .sequential,
                                                 lengths: [], optimizerBatch: 4)
        XCTAssertEqual(sequential, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
        XCTAssertEqual(EpochOrder.microBatches(0..<3, batchSize: 4, count: 10, seed: 7, epoch: 1, strategy: .random, lengths: [],
                                               optimizerBatch: 4),
                       EpochOrder.microBatches(0..<3, batchSize: 4, count: 10, seed: 7, epoch: 1))
        let grouped = EpochOrder.microBatches(0..<3, batchSize: 4, count: 10, seed: 7, epoch: 1, strategy: .groupByLength,
                                              lengths: Array(0..<10), optimizerBatch: 4)
        XCTAssertEqual(grouped.first?.first, 9, "the longest row comes first")
        XCTAssertEqual(Set(grouped.joined()), Set(0..<10))
    }

    func testWhatCannotBeDoneIsRefusedAndWhatIsIgnoredIsNoted() throws {
        let rebalance = try resolve(SFTConfig.self, "train_sampling_strategy: batch_rebalance")
        XCTAssert(rebalance.report.errors.contains { $0.field == "train_sampling_strategy" && $0.text.contains("different sizes") },
                  "\(rebalance.report.errors)")
        let dpo = try resolve(DPOConfig.self, "train_sampling_strategy: group_by_length")
        XCTAssert(dpo.report.errors.contains { $0.field == "train_sampling_strategy" && $0.text.contains("input_ids") }, "\(dpo.report.errors)")
        XCTAssert(try resolve(SFTConfig.self, "train_sampling_strategy: group_by_length").report.isUsable)
        XCTAssert(try resolve(DPOConfig.self, "train_sampling_strategy: sequential").report.isUsable)
        let grpo = try resolve(GRPOConfig.self, "train_sampling_strategy: sequential")
        XCTAssert(grpo.report.isUsable)
        XCTAssert(grpo.report.messages.contains { $0.field == "train_sampling_strategy" && $0.text.contains("changes nothing") },
                  "\(grpo.report.messages)")
    }
}
