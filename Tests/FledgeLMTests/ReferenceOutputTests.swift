import XCTest
@testable import FledgeLM

/// Every fixture family and variant computes what transformers computes: per-token
/// log-probabilities within 1e-4, classifier scores within 1e-4, and greedy generations
/// identical token for token, alone and as a left-padded batch.
final class ReferenceOutputTests: XCTestCase {
    func testTokenLogProbsMatchTransformers() throws {
        for name in ModelFixtures.causal {
            let model = try LanguageModel(directory: ModelFixtures.directory(name))
            let cases = try ModelFixtures.expected(name)["score"] as! [[String: Any]]
            let sequences = cases.map { ints($0["ids"]) }
            let expected = cases.map { floats($0["logprobs"]) }
            var worstAlone: Float = 0, worstBatch: Float = 0
            for (sequence, reference) in zip(sequences, expected) {
                let got = model.tokenLogProbs([sequence])[0]
                XCTAssertEqual(got.count, reference.count, name)
                for (a, e) in zip(got, reference) { worstAlone = max(worstAlone, abs(a - e)) }
            }
            for (got, reference) in zip(model.tokenLogProbs(sequences), expected) {
                for (a, e) in zip(got, reference) { worstBatch = max(worstBatch, abs(a - e)) }
            }
            print("\(name): log-probs max abs error alone \(worstAlone), left-padded batch \(worstBatch)")
            XCTAssertLessThan(worstAlone, 1e-4, name)
            XCTAssertLessThan(worstBatch, 1e-4, name)
        }
    }

    func testGreedyGenerationsMatchTransformers() throws {
        for name in ModelFixtures.causal {
            let model = try LanguageModel(directory: ModelFixtures.directory(name))
            let greedy = try ModelFixtures.expected(name)["greedy"] as! [String: Any]
            let prompts = intRows(greedy["prompts"])
            var options = SamplingOptions()
            options.greedy = true
            options.maxNewTokens = 30
            options.eosTokenIds = ints(greedy["eos"])
            XCTAssertEqual(Set(model.generationConfig.eosTokenIds), Set(ints(greedy["eos"])), "\(name): EOS ids of generation_config.json")
            options.eosTokenIds = nil
            for (prompt, expected) in zip(prompts, intRows(greedy["new_ids"])) {
                XCTAssertEqual(model.generate([prompt], options: options)[0].ids, expected, "\(name): prompt \(prompt) alone")
            }
            let batch = model.generate(prompts, options: options).map(\.ids)
            XCTAssertEqual(batch, intRows(greedy["batch_new_ids"]), "\(name): left-padded batch")
        }
    }

    func testClassifierScoresMatchTransformers() throws {
        for name in ModelFixtures.classifiers {
            let model = try SequenceClassifier(directory: ModelFixtures.directory(name))
            XCTAssertTrue(try PretrainedModel.load(directory: ModelFixtures.directory(name)) is SequenceClassifier)
            let expected = try ModelFixtures.expected(name)["classifier"] as! [String: Any]
            let sequences = intRows(expected["sequences"])
            let alone = (expected["scores"] as! [[NSNumber]]).map { $0.map(\.floatValue) }
            let batched = (expected["batch_scores"] as! [[NSNumber]]).map { $0.map(\.floatValue) }
            var worst: Float = 0
            for (sequence, reference) in zip(sequences, alone) {
                for (a, e) in zip(model.classify([sequence])[0], reference) { worst = max(worst, abs(a - e)) }
            }
            for (got, reference) in zip(model.classify(sequences), batched) {
                for (a, e) in zip(got, reference) { worst = max(worst, abs(a - e)) }
            }
            print("\(name): classifier scores max abs error \(worst)")
            XCTAssertLessThan(worst, 1e-4, name)
        }
    }
}
