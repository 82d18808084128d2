import Foundation
import XCTest
@testable import FledgeLM

/// Sequences that end in pad tokens that are not EOS: the classifier reads them where transformers'
/// `…ForSequenceClassification` does, at the last token that is not padding
/// (Scripts/reference/make_classifier_padding_fixtures.py).
final class ClassifierPaddingTests: XCTestCase {
    func testScoresOfSequencesEndingInPadMatchTransformers() throws {
        for name in ModelFixtures.classifiers {
            let model = try SequenceClassifier(directory: ModelFixtures.directory(name))
            let data = try Data(contentsOf: ModelFixtures.directory(name).appendingPathComponent("padding.json"))
            let expected = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let pad = try XCTUnwrap(expected["pad_token_id"] as? NSNumber).intValue
            let eos = try XCTUnwrap(expected["eos_token_id"] as? NSNumber).intValue
            XCTAssertEqual(model.config.padTokenId, pad, name)
            XCTAssertNotEqual(pad, eos, "the fixture's pad token must not be its EOS")
            let sequences = intRows(expected["sequences"])
            XCTAssertTrue(sequences.contains { $0.last == pad && $0.contains { $0 != pad } }, "a row that ends in padding")
            func rows(_ key: String) -> [[Float]] { (expected[key] as! [[NSNumber]]).map { $0.map(\.floatValue) } }
            let batch = model.classify(sequences)
            XCTAssertEqual(batch.map(\.count), Array(repeating: model.config.numLabels, count: sequences.count))
            let errors = [
                maxAbsoluteError(sequences.map { model.classify([$0])[0] }, rows("scores")),
                maxAbsoluteError(batch, rows("batch_scores")),
                maxAbsoluteError(model.lastNonPadScores(sequences).toArray().map { [$0] }, rows("batch_scores").map { [$0[0]] }),
            ]
            XCTAssertLessThan(errors.max()!, 1e-4, "\(name): \(errors)")
        }
    }

    private func maxAbsoluteError(_ got: [[Float]], _ expected: [[Float]]) -> Float {
        XCTAssertEqual(got.count, expected.count)
        return zip(got.joined(), expected.joined()).map { abs($0 - $1) }.max() ?? .infinity
    }
}
