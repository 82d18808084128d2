import Foundation
import XCTest
@testable import FledgeLM
@testable import FledgeRL

/// `neftune_noise_alpha`: transformers' NEFTune hook — uniform noise of half-width α/√(L·d) on the
/// input embeddings of training passes only.
final class SFTNEFTuneTests: XCTestCase {
    /// The noise is uniform in ±α/√(L·d) for embeddings `[batch, L, d]` (its spread and its variance
    /// b²/3), and absent outside training passes.
    func testNoiseHasTransformersScaleAndOnlyInTraining() {
        var noise = NEFTuneNoise(alpha: 5, seed: 7)
        let shape = [3, 40, 24]
        let bound = noise.magnitude(length: 40, width: 24)
        XCTAssertEqual(bound, 5 / Float(40 * 24).squareRoot())
        let zeros = Tensor.zeros(shape)
        let values = noise.apply(to: zeros, positions: []).toArray()
        XCTAssert(values.allSatisfy { abs($0) <= bound })
        XCTAssertGreaterThan(values.map(abs).max()!, 0.99 * bound)
        let mean = values.reduce(0, +) / Float(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(values.count)
        print("NEFTune noise: bound \(bound), mean \(mean), variance \(variance) vs b²/3 \(bound * bound / 3)")
        XCTAssertEqual(mean, 0, accuracy: 0.05 * bound)
        XCTAssertEqual(variance, bound * bound / 3, accuracy: 0.05 * bound * bound / 3)
        Tensor.withoutGrad { XCTAssertEqual(noise.apply(to: zeros, positions: []).toArray(), Array(repeating: 0, count: values.count)) }
    }

    /// With NEFTune, training losses change (and repeat for the same micro-batch: the noise seed is
    /// the batch's), while evaluation and generation are exactly as without it.
    func testTrainingIsNoisyButEvaluationAndGenerationAreNot() throws {
        let dataset = try SFTDataset(file: SFTFixtures.directory.appendingPathComponent("prompt_completion.jsonl"),
                                     tokenizer: try SFTFixtures.tokenizer(), config: SFTConfig())
        func run(alpha: Double?) throws -> (train: [Float], eval: Double, generated: [[Int]]) {
            let model = try SFTFixtures.fullyTrainableModel()
            var settings = SFTConfig.batches(3, evaluation: 3, dataSeed: 5)
            settings.neftuneNoiseAlpha = alpha
            let sft = try SFT(model: model, train: dataset.sequences, evaluation: dataset.sequences, config: settings)
            let batch = try sft.microBatches(for: StepPosition(step: 0, epoch: 0, microBatches: 0..<1))[0]
            let losses = try (0..<2).map { _ in try sft.loss(of: batch).loss.item() }
            var options = SamplingOptions()
            options.greedy = true
            options.maxNewTokens = 6
            let generated = model.generate([Array(dataset.sequences[0].ids.prefix(4))], options: options).map(\.ids)
            return (losses, try XCTUnwrap(try sft.evaluate()?["loss"]), generated)
        }
        let plain = try run(alpha: nil), noisy = try run(alpha: 5)
        print("NEFTune α 5: training loss \(noisy.train[0]) vs \(plain.train[0]) without; eval \(noisy.eval) vs \(plain.eval)")
        XCTAssertNotEqual(noisy.train[0], plain.train[0])
        XCTAssertEqual(noisy.train[0], noisy.train[1])
        XCTAssertEqual(noisy.eval, plain.eval)
        XCTAssertEqual(noisy.generated, plain.generated)
    }
}
