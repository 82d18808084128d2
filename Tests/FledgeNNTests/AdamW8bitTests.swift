import XCTest
@testable import FledgeNN

/// `AdamW8bit` against `bitsandbytes.optim.AdamW8bit` on the CPU, its memory, its state round
/// trip, and how closely it follows 32-bit AdamW on a small regression problem.
final class AdamW8bitTests: XCTestCase {
    /// The fixture lowers bitsandbytes' `min_8bit_size` to 512 so that only `big.weight` (551
    /// elements: two full blocks and a partial one) gets 8-bit state.
    private func make(_ parameters: [Parameter]) -> AdamW8bit {
        AdamW8bit(parameters: parameters, weightDecay: 0.01, minimumQuantizedCount: 512)
    }

    func testMatchesBitsandbytesAfterFiveSteps() throws {
        let optimizer = make(try OptimizerFixture.parameters())
        try OptimizerFixture.run(optimizer, learningRate: 1e-3, steps: 0..<OptimizerFixture.steps)
        let state = try SafeTensorsFile(url: write(optimizer, in: self))
        for parameter in optimizer.parameters {
            let name = parameter.name
            assertClose(parameter.tensor, try OptimizerFixture.tensor("adamw8bit/\(name)"), tolerance: 1e-6, "8-bit \(name)")
            for moment in ["exp_avg", "exp_avg_sq"] where name != "big.weight" {
                assertClose(try state.tensor("\(moment)/\(name)"), try OptimizerFixture.tensor("adamw8bit/\(moment)/\(name)"),
                            tolerance: 1e-6, "8-bit \(moment) \(name) (float32 state)")
            }
        }
        for moment in ["exp_avg", "exp_avg_sq"] {
            XCTAssertEqual(try state.integers("\(moment)/big.weight"), try OptimizerFixture.integers("adamw8bit/\(moment)/big.weight"), moment)
            assertClose(try state.tensor("\(moment)_absmax/big.weight"), try OptimizerFixture.tensor("adamw8bit/\(moment)_absmax/big.weight"),
                        tolerance: 1e-6, "8-bit \(moment) absmax")
        }
    }

    func testResumesExactlyFromSavedState() throws {
        try assertResumesExactly(self, learningRate: 1e-3, make)
    }

    /// 8-bit state of a large tensor is a quarter of AdamW's plus 8 bytes per 256-block; small
    /// tensors keep AdamW's float32 state.
    func testStateIsAQuarterOfAdamWForLargeTensors() {
        let large = Tensor.zeros([576, 1536]), small = Tensor.zeros([576])
        for tensor in [large, small] { tensor.requiresGrad = true }
        let parameters = [Parameter(name: "large", tensor: large), Parameter(name: "small", tensor: small)]
        let full = AdamW(parameters: parameters).stateBytes, quantized = AdamW8bit(parameters: parameters).stateBytes
        XCTAssertEqual(full, 8 * (576 * 1536 + 576))
        XCTAssertEqual(quantized, 2 * 576 * 1536 + 8 * (576 * 1536 / 256) + 8 * 576)
        print(String(format: "  state bytes: AdamW %d, AdamW8bit %d (%.3f)", full, quantized, Double(quantized) / Double(full)))
    }

    /// Loading 32-bit AdamW state where 8-bit state is expected names the entry and the cause.
    func testLoadingAdamWStateFails() throws {
        let parameters = try OptimizerFixture.parameters()
        let saved = try write(AdamW(parameters: parameters), in: self)
        XCTAssertThrowsError(try make(parameters).loadState(from: SafeTensorsFile(url: saved))) { error in
            XCTAssertTrue("\(error)".contains("'exp_avg/big.weight' has dtype F32 but parameter 'big.weight' (8-bit state) keeps it as U8"), "\(error)")
        }
    }

    /// A one-hidden-layer tanh network fitted for 400 steps to noisy outputs of a random teacher
    /// network of the same shape. The hidden weight (48×32) gets 8-bit state (the threshold is
    /// lowered to 1024 to keep the problem small). Both optimizers must bring the loss below a
    /// hundredth of where it starts, and the final losses must agree within 5% (they differ by
    /// about 2%; the curves differ by a few percent all along).
    func testTracksAdamWOnARegressionProblem() throws {
        var generator = SeededGenerator(seed: 11)
        func uniform(_ shape: [Int], _ scale: Float) -> Tensor { Tensor.uniform(shape, in: -scale..<scale, using: &generator) }
        let inputs = uniform([512, 32], 1)
        let teacher = [uniform([48, 32], 0.5), uniform([48], 0.5), uniform([4, 48], 0.5)]
        let noise = uniform([512, 4], 0.05)
        let targets = Tensor.withoutGrad { Self.network(inputs, teacher) + noise }
        let floor = noise.square().mean().item()
        let initial = [uniform([48, 32], 0.1), uniform([48], 0.1), uniform([4, 48], 0.1)]

        func train(_ make: ([Parameter]) -> any Optimizer) -> (first: Float, last: Float) {
            let weights = initial.map { tensor in
                let copy = OptimizerFixture.copy(tensor)
                copy.requiresGrad = true
                return copy
            }
            let optimizer = make(zip(["hidden.weight", "hidden.bias", "out.weight"], weights).map { Parameter(name: $0, tensor: $1) })
            var losses: [Float] = []
            for _ in 0..<400 {
                let error = (Self.network(inputs, weights) - targets).square().mean()
                losses.append(error.item())
                error.backward()
                optimizer.step(learningRate: 2e-2)
                optimizer.zeroGrad()
            }
            return (losses[0], losses[losses.count - 1])
        }
        let full = train { AdamW(parameters: $0, weightDecay: 0.01) }
        let quantized = train { AdamW8bit(parameters: $0, weightDecay: 0.01, minimumQuantizedCount: 1024) }
        print(String(format: "  loss %.4f → AdamW %.6f, AdamW8bit %.6f (noise floor %.6f)", full.first, full.last, quantized.last, floor))
        XCTAssertLessThan(full.last, full.first / 100)
        XCTAssertLessThan(quantized.last, quantized.first / 100)
        XCTAssertEqual(Double(quantized.last), Double(full.last), accuracy: 0.05 * Double(full.last))
    }

    private static func network(_ inputs: Tensor, _ weights: [Tensor]) -> Tensor {
        (inputs.matmul(weights[0].transposed()) + weights[1]).tanh().matmul(weights[2].transposed())
    }
}
