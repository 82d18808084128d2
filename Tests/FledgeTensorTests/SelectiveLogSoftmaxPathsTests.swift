import XCTest
@testable import FledgeTensor

/// The selective log-softmax has two backward paths: with a frozen projection and no entropy
/// gradient it uses E_p[W] accumulated in the forward; otherwise it recomputes the logits.
/// Both give PyTorch's hidden-state gradient, across several vocabulary tiles.
final class SelectiveLogSoftmaxPathsTests: XCTestCase {
    private func hiddenGradient(frozenWeight: Bool, entropyGrad: Bool, chunkElements: Int) throws -> (Tensor, DTensor) {
        let fixture = OpFixture(file: try Fixtures.ops.get(), name: "selective_log_softmax")
        let inputs = try fixture.inputs()
        let (hidden, weight) = (inputs[0], inputs[1])
        hidden.requiresGrad = true
        weight.requiresGrad = !frozenWeight
        let result = Tensor.selectiveLogSoftmax(hidden: hidden, weight: weight, targets: try fixture.integers("targets"),
                                                temperature: 0.7, withEntropy: true, chunkElements: chunkElements)
        var loss = (result.logProbs * (try fixture.tensor("gout"))).sum()
        if entropyGrad { loss = loss + (result.entropy! * (try fixture.tensor("gout_entropy"))).sum() }
        loss.backward()
        return (hidden.grad!, DTensor(try fixture.tensor("grad0")))
    }

    func testFrozenProjectionUsesTheForwardExpectationAndMatches() throws {
        for chunk in [8, 1 << 20] {
            let (expectationPath, _) = try hiddenGradient(frozenWeight: true, entropyGrad: false, chunkElements: chunk)
            let (recomputePath, _) = try hiddenGradient(frozenWeight: false, entropyGrad: false, chunkElements: chunk)
            assertClose(expectationPath, DTensor(recomputePath), tolerance: Tolerance.reduction, "E_p[W] path vs recompute, chunk \(chunk)")
        }
    }

    func testEntropyGradientFallsBackToRecomputingAndMatchesPyTorch() throws {
        for chunk in [8, 1 << 20] {
            let (grad, expected) = try hiddenGradient(frozenWeight: true, entropyGrad: true, chunkElements: chunk)
            assertClose(grad, expected, tolerance: Tolerance.reduction, "frozen W with entropy gradient, chunk \(chunk)")
        }
    }
}
