import XCTest
@testable import FledgeLM

/// Continuous batching with shared prompts gives every row the tokens and log-probs of the
/// lockstep left-padded batch (the schedule generation had before), greedy and seeded, whatever
/// the number of rows decoding at once: each row draws from its own generator, so the order of
/// draws within a row never changes.
final class ContinuousBatchTests: XCTestCase {
    /// Groups of repeated prompts (as a GRPO round has them), of different lengths.
    private let prompts = [[5, 9, 30], [7, 8, 9, 10, 11, 12], [5, 9, 30], [7, 8, 9, 10, 11, 12], [3, 4], [5, 9, 30],
                           [3, 4], [7, 8, 9, 10, 11, 12]]

    /// Sampling of up to 14 new tokens with EOS ignored, with `seed` (nil: greedy).
    private func options(seed: UInt64?, temperature: Float = 1, topK: Int = 0, topP: Float = 1,
                         repetitionPenalty: Float = 1) -> SamplingOptions {
        var options = SamplingOptions()
        (options.maxNewTokens, options.ignoreEOS, options.greedy) = (14, true, seed == nil)
        (options.seed, options.temperature, options.topK, options.topP) = (seed ?? 0, temperature, topK, topP)
        options.repetitionPenalty = repetitionPenalty
        return options
    }

    /// Row `r` stops after `3 + 2r mod 11` tokens, so rows leave the batch at different steps.
    private static func stopAtSpreadLengths(_ row: Int, _ ids: [Int]) -> Bool { ids.count == 3 + (2 * row) % 11 }

    private func assertSameRows(_ actual: [GeneratedSequence], _ expected: [GeneratedSequence], _ message: String,
                                file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.map(\.ids), expected.map(\.ids), message, file: file, line: line)
        XCTAssertEqual(actual.map(\.finishReason), expected.map(\.finishReason), message, file: file, line: line)
        for (row, (a, b)) in zip(actual, expected).enumerated() {
            XCTAssertEqual(a.logProbs.count, b.logProbs.count, "\(message): row \(row)", file: file, line: line)
            for (x, y) in zip(a.logProbs, b.logProbs) {
                XCTAssertEqual(x, y, accuracy: 1e-5, "\(message): row \(row) log-prob", file: file, line: line)
            }
        }
    }

    private func checkSchedules(_ model: LanguageModel, _ options: SamplingOptions, _ name: String,
                                file: StaticString = #filePath, line: UInt = #line) {
        let lockstep = model.generate(prompts, options: options, seedIndices: nil, schedule: .lockstep,
                                      shouldStop: Self.stopAtSpreadLengths)
        XCTAssertTrue(lockstep.contains { $0.finishReason == .stop } && lockstep.contains { $0.ids.count != lockstep[0].ids.count },
                      "\(name): rows stop at different lengths", file: file, line: line)
        for concurrent in [prompts.count, 3, 1] {
            let continuous = model.generate(prompts, options: options, concurrentRows: concurrent, shouldStop: Self.stopAtSpreadLengths)
            assertSameRows(continuous, lockstep, "\(name), \(concurrent) rows at once", file: file, line: line)
        }
    }

    func testGreedyRowsMatchTheLockstepBatch() throws {
        let model = try LanguageModel(directory: ModelFixtures.directory("llama_gqa_bias_linear"))
        checkSchedules(model, options(seed: nil), "greedy")
    }

    func testSeededRowsMatchTheLockstepBatch() throws {
        let model = try LanguageModel(directory: ModelFixtures.directory("llama_gqa_bias_linear"))
        checkSchedules(model, options(seed: 11, temperature: 1.2, topP: 0.95), "seeded")
        var seeded = options(seed: 3, topK: 20, repetitionPenalty: 1.3)
        seeded.maxNewTokens = 9
        checkSchedules(model, seeded, "seeded, top-k and repetition penalty")
    }

    /// A sliding-window model stopping at its EOS ids: rows admitted later, into a cache whose
    /// oldest positions are dropped, still match.
    func testSlidingWindowRowsStoppingAtEOSMatchTheLockstepBatch() throws {
        let model = try LanguageModel(directory: ModelFixtures.directory("mistral_sliding"))
        let greedy = try ModelFixtures.expected("mistral_sliding")["greedy"] as! [String: Any]
        var sampling = options(seed: 5)
        (sampling.ignoreEOS, sampling.maxNewTokens, sampling.eosTokenIds) = (false, 30, ints(greedy["eos"]))
        let prompts = intRows(greedy["prompts"])
        let rows = prompts + prompts + prompts
        let lockstep = model.generate(rows, options: sampling, seedIndices: nil, schedule: .lockstep)
        XCTAssertTrue(lockstep.contains { $0.finishReason == .eos } && lockstep.contains { $0.finishReason == .length })
        for concurrent in [rows.count, 2] {
            assertSameRows(model.generate(rows, options: sampling, concurrentRows: concurrent), lockstep,
                           "mistral_sliding, \(concurrent) rows at once")
        }
    }

    /// Rows given seed indices (a share of a round) sample what the same rows of the whole round sample.
    func testRowsKeepTheirSeedIndices() throws {
        let model = try LanguageModel(directory: ModelFixtures.directory("llama_gqa_bias_linear"))
        let sampling = options(seed: 8, temperature: 0.9)
        let whole = model.generate(prompts, options: sampling, shouldStop: Self.stopAtSpreadLengths)
        let share = [6, 1, 3]
        let part = model.generate(share.map { prompts[$0] }, options: sampling, seedIndices: share, concurrentRows: 2,
                                  shouldStop: { Self.stopAtSpreadLengths(share[$0], $1) })
        assertSameRows(part, share.map { whole[$0] }, "a share of the rows")
    }
}

/// A decoding cache holds twice a sliding-window layer's window, whatever the sequence length, and
/// every position of a full-attention layer; generation through it still gives transformers'
/// tokens (the family greedy tests) and the lockstep batch's (above).
final class SlidingWindowCacheTests: XCTestCase {
    func testSlidingWindowLayersHoldTwiceTheirWindow() throws {
        let mistral = try LanguageModel(directory: ModelFixtures.directory("mistral_sliding"))
        XCTAssertEqual(mistral.makeCache(batch: 2, capacity: 300, keepingWindows: true).layerCapacities,
                       Array(repeating: 10, count: mistral.config.layers))
        XCTAssertEqual(mistral.makeCache(batch: 2, capacity: 300).layerCapacities, Array(repeating: 300, count: mistral.config.layers))
        let gemma = try LanguageModel(directory: FamilyFixtures.directory("gemma2"))
        let windows = gemma.decoder.layers.map(\.slidingWindow)
        XCTAssertTrue(windows.contains(nil) && windows.contains { $0 != nil })
        XCTAssertEqual(gemma.makeCache(batch: 1, capacity: 300, keepingWindows: true).layerCapacities,
                       windows.map { $0.map { 2 * $0 } ?? 300 })
    }

    /// Long generations through the trimmed cache of mistral_sliding (window 5) match the
    /// untrimmed lockstep batch, rows admitted late included.
    func testGenerationPastTheWindowMatchesTheUntrimmedCache() throws {
        let model = try LanguageModel(directory: ModelFixtures.directory("mistral_sliding"))
        var options = SamplingOptions()
        options.greedy = true
        options.maxNewTokens = 40
        options.ignoreEOS = true
        let prompts = [[5, 9, 30, 31, 2, 8, 7, 12, 40, 3, 3], [7, 8], [5, 9, 30, 31, 2, 8, 7, 12, 40, 3, 3]]
        let lockstep = model.generate(prompts, options: options, seedIndices: nil, schedule: .lockstep)
        for concurrent in [3, 1] {
            let trimmed = model.generate(prompts, options: options, concurrentRows: concurrent)
            XCTAssertEqual(trimmed.map(\.ids), lockstep.map(\.ids), "\(concurrent) rows at once")
            for (a, b) in zip(trimmed, lockstep) {
                for (x, y) in zip(a.logProbs, b.logProbs) { XCTAssertEqual(x, y, accuracy: 1e-5) }
            }
        }
    }
}
