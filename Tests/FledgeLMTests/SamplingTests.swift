import XCTest
@testable import FledgeLM

/// Sampling is reproducible per seed, each row independent of the batch around it, and the
/// filters keep exactly what transformers' warpers keep.
final class SamplingTests: XCTestCase {
    private func model() throws -> LanguageModel { try LanguageModel(directory: ModelFixtures.directory("llama_gqa_bias_linear")) }

    private func options(_ configure: (inout SamplingOptions) -> Void) -> SamplingOptions {
        var options = SamplingOptions()
        options.maxNewTokens = 12
        options.ignoreEOS = true
        configure(&options)
        return options
    }

    func testSeededSamplingIsReproducibleAndRowsIndependentOfTheBatch() throws {
        let model = try model()
        let prompts = [[5, 9, 30], [7, 8, 9, 10, 11, 12]]
        let sampling = options { $0.seed = 42; $0.temperature = 1.3; $0.topP = 0.9 }
        let first = model.generate(prompts, options: sampling)
        let second = model.generate(prompts, options: sampling)
        XCTAssertEqual(first.map(\.ids), second.map(\.ids))
        XCTAssertEqual(model.generate([prompts[0]], options: sampling)[0].ids, first[0].ids)
        // A row generated on its own with its index in the batch as seed index samples the same tokens.
        XCTAssertEqual(model.generate([prompts[1]], options: sampling, seedIndices: [1])[0].ids, first[1].ids)
        XCTAssertNotEqual(model.generate([prompts[1]], options: sampling)[0].ids, first[1].ids)
        var other = sampling
        other.seed = 43
        XCTAssertNotEqual(model.generate(prompts, options: other).map(\.ids), first.map(\.ids))
        XCTAssertTrue(first.allSatisfy { $0.ids.count == 12 && $0.logProbs.count == 12 && $0.finishReason == .length })
    }

    func testTopKOfOneAndMinPOfOneAreGreedy() throws {
        let model = try model()
        let prompts = [[5, 9, 30, 31]]
        let greedy = model.generate(prompts, options: options { $0.greedy = true })[0].ids
        XCTAssertEqual(model.generate(prompts, options: options { $0.topK = 1; $0.seed = 3 })[0].ids, greedy)
        XCTAssertEqual(model.generate(prompts, options: options { $0.minP = 1; $0.seed = 4 })[0].ids, greedy)
        XCTAssertEqual(model.generate(prompts, options: options { $0.topP = 1e-6; $0.seed = 5 })[0].ids, greedy)
    }

    func testLogProbsOfGeneratedTokensEqualScoring() throws {
        let model = try model()
        let prompt = [5, 9, 30, 31, 2]
        let out = model.generate([prompt], options: options { $0.seed = 7; $0.temperature = 0.7 })[0]
        let scored = model.tokenLogProbs([prompt + out.ids], temperature: 0.7)[0].suffix(out.ids.count)
        for (a, b) in zip(out.logProbs, scored) { XCTAssertEqual(a, b, accuracy: 1e-4) }
    }

    func testRepetitionPenaltyAvoidsRepeats() throws {
        let model = try model()
        let prompt = [5, 9, 30]
        let plain = model.generate([prompt], options: options { $0.greedy = true; $0.maxNewTokens = 30 })[0].ids
        let penalised = model.generate([prompt], options: options { $0.greedy = true; $0.maxNewTokens = 30; $0.repetitionPenalty = 100 })[0].ids
        XCTAssertLessThan(Set(plain).count, plain.count, "the plain greedy continuation repeats (fixture)")
        XCTAssertEqual(Set(penalised + prompt).count, penalised.count + prompt.count, "no token repeats under a huge penalty")
    }

    /// `suppress_tokens`: the suppressed ids are never chosen, greedy or sampled, and the reported
    /// log-probabilities stay those of the unmodified logits (what scoring computes).
    func testSuppressedTokensAreNeverChosen() throws {
        let model = try model()
        let prompt = [5, 9, 30, 31]
        let greedy = model.generate([prompt], options: options { $0.greedy = true })[0].ids
        let suppressed = Array(Set(greedy))
        let avoided = model.generate([prompt], options: options { $0.greedy = true; $0.suppressedTokenIds = suppressed })[0]
        XCTAssertTrue(Set(avoided.ids).isDisjoint(with: suppressed), "\(avoided.ids) uses one of \(suppressed)")
        let scored = model.tokenLogProbs([prompt + avoided.ids], temperature: 1)[0].suffix(avoided.ids.count)
        for (a, b) in zip(avoided.logProbs, scored) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        let sampled = model.generate([prompt, prompt], options: options {
            $0.seed = 9; $0.temperature = 1.5; $0.suppressedTokenIds = suppressed
        })
        for row in sampled { XCTAssertTrue(Set(row.ids).isDisjoint(with: suppressed), "\(row.ids)") }
    }

    func testStopsAtEOSAndAtStopCallback() throws {
        let model = try model()
        let greedy = try ModelFixtures.expected("mistral_sliding")["greedy"] as! [String: Any]
        let mistral = try LanguageModel(directory: ModelFixtures.directory("mistral_sliding"))
        let prompt = intRows(greedy["prompts"])[1]
        let out = mistral.generate([prompt], options: options { $0.greedy = true; $0.maxNewTokens = 30; $0.ignoreEOS = false })[0]
        XCTAssertEqual(out.finishReason, .eos)
        XCTAssertTrue([2, 7].contains(out.ids.last!))
        let stopped = model.generate([[5, 9]], options: options { $0.greedy = true }, shouldStop: { _, ids in ids.count == 3 })[0]
        XCTAssertEqual(stopped.ids.count, 3)
        XCTAssertEqual(stopped.finishReason, .stop)
    }
}
