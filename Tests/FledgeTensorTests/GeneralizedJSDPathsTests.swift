import XCTest
@testable import FledgeTensor

/// The generalized JSD has two paths: with a frozen student head, the fused forward keeps each row's
/// Jacobian d(divergence)/d(hidden) and the backward scales it; with a trainable head, checkpointed
/// blocks are recomputed in the backward. Both give the same values, entropies and hidden-state
/// gradients, and the trainable head's gradient is that of the dense formula. Entropies agree within
/// 1e-6 relative; values within 2e-6 (the fused path sums each row in double precision, the
/// checkpointed one in float32, about 1e-6 off); hidden-state gradients within 1e-5 of their largest
/// value, as each path is
/// within a few 1e-6 of the dense float32 formula: J = Σ slope · W sums slopes that sum to zero, so
/// an ulp of log p (a few 1e-7 here) in one path is that much of a small slope.
final class GeneralizedJSDPathsTests: XCTestCase {
    private static let rows = 13, studentWidth = 6, teacherWidth = 10, vocab = 37

    private static func values(_ count: Int, seed: Int, amplitude: Double) -> [Float] {
        (0..<count).map { Float(sin(Double($0 * 7 + seed) * 0.37) * amplitude + cos(Double($0 + 3 * seed)) * 0.3) }
    }

    private struct Case {
        let beta: Float
        let temperature: Float
        let studentCap: Float?
        let teacherCap: Float?
    }

    private struct Outcome {
        let divergence: [Float]
        let entropy: [Float]
        let hiddenGrad: [Float]
        let weightGrad: [Float]?
        let rule: String?
    }

    /// The student's hidden states and head, the teacher's (wider) hidden states and head: fresh tensors each call.
    private static func operands() -> (hidden: Tensor, weight: Tensor, teacherHidden: Tensor, teacherWeight: Tensor) {
        (Tensor(shape: [rows, studentWidth], values: values(rows * studentWidth, seed: 1, amplitude: 1.5)),
         Tensor(shape: [vocab, studentWidth], values: values(vocab * studentWidth, seed: 2, amplitude: 1.2)),
         Tensor(shape: [rows, teacherWidth], values: values(rows * teacherWidth, seed: 3, amplitude: 1.4)),
         Tensor(shape: [vocab, teacherWidth], values: values(vocab * teacherWidth, seed: 4, amplitude: 1.1)))
    }

    /// Σ divergence · g with a different g per row (so the backward's per-row scaling is checked).
    private func run(_ setting: Case, trainableHead: Bool, chunkElements: Int) -> Outcome {
        let (hidden, weight, teacherHidden, teacherWeight) = Self.operands()
        hidden.requiresGrad = true
        weight.requiresGrad = trainableHead
        let result = Tensor.generalizedJSD(
            studentHidden: hidden, studentWeight: weight, studentSoftCap: setting.studentCap,
            teacherHidden: teacherHidden, teacherWeight: teacherWeight, teacherSoftCap: setting.teacherCap,
            beta: setting.beta, temperature: setting.temperature, chunkElements: chunkElements)
        let rule = result.divergence.node?.rule?.name
        let upstream = Tensor(shape: [Self.rows], values: (0..<Self.rows).map { Float($0 % 5) * 0.3 - 0.4 })
        (result.divergence * upstream).sum().backward()
        return Outcome(divergence: result.divergence.detached().toArray(), entropy: result.entropy, hiddenGrad: hidden.grad!.toArray(),
                       weightGrad: weight.grad?.toArray(), rule: rule)
    }

    /// The same loss with the whole `[rows, V]` logits and plain tensor ops: the gradients of the hidden states and the head.
    private func denseGradients(_ setting: Case) -> (hidden: [Float], weight: [Float]) {
        let (hidden, weight, teacherHidden, teacherWeight) = Self.operands()
        hidden.requiresGrad = true
        weight.requiresGrad = true
        func logProbabilities(_ h: Tensor, _ w: Tensor, cap: Float?) -> Tensor {
            var logits = h.matmul(w.transposed())
            if let cap { logits = (logits / cap).tanh() * cap }
            return (logits / setting.temperature).logSoftmax(axis: 1)
        }
        let student = logProbabilities(hidden, weight, cap: setting.studentCap)
        let teacher = logProbabilities(teacherHidden, teacherWeight, cap: setting.teacherCap)
        let beta = setting.beta
        let divergence: Tensor
        if beta == 0 {
            divergence = (teacher.exp() * (teacher - student)).sum(axis: 1)
        } else if beta == 1 {
            divergence = (student.exp() * (student - teacher)).sum(axis: 1)
        } else {
            let mixture = (student.exp() * (1 - beta) + teacher.exp() * beta).log()
            divergence = (teacher.exp() * (teacher - mixture)).sum(axis: 1) * beta
                + (student.exp() * (student - mixture)).sum(axis: 1) * (1 - beta)
        }
        let upstream = Tensor(shape: [Self.rows], values: (0..<Self.rows).map { Float($0 % 5) * 0.3 - 0.4 })
        (divergence * upstream).sum().backward()
        return (hidden.grad!.toArray(), weight.grad!.toArray())
    }

    private func relativeError(_ actual: [Float], _ expected: [Float]) -> Double {
        XCTAssertEqual(actual.count, expected.count)
        let scale = expected.map { Swift.abs(Double($0)) }.max() ?? 1
        return zip(actual, expected).map { Swift.abs(Double($0) - Double($1)) }.max().map { $0 / scale } ?? 0
    }

    /// beta 0, 0.5 and 1; temperature 1 and 0.7 with soft caps on both models; 13 rows in blocks of 4
    /// (and one block); a teacher wider than the student.
    func testFusedFrozenHeadPathMatchesTheCheckpointedPath() {
        for beta: Float in [0, 0.5, 1] {
            for setting in [Case(beta: beta, temperature: 1, studentCap: nil, teacherCap: nil),
                            Case(beta: beta, temperature: 0.7, studentCap: 3, teacherCap: 4)] {
                for chunk in [4 * Self.vocab, 1 << 20] {
                    let label = "beta \(beta), temperature \(setting.temperature), cap \(setting.studentCap ?? 0), chunk \(chunk)"
                    let fused = run(setting, trainableHead: false, chunkElements: chunk)
                    let checkpointed = run(setting, trainableHead: true, chunkElements: chunk)
                    XCTAssertEqual(fused.rule, "scaledRows", label)
                    XCTAssertNotEqual(checkpointed.rule, "scaledRows", label)
                    let valueError = relativeError(fused.divergence, checkpointed.divergence)
                    let entropyError = relativeError(fused.entropy, checkpointed.entropy)
                    let gradError = relativeError(fused.hiddenGrad, checkpointed.hiddenGrad)
                    print("generalizedJSD fused vs checkpointed, \(label): value \(valueError), entropy \(entropyError), d(hidden) \(gradError)")
                    XCTAssertLessThan(valueError, 2e-6, label)
                    XCTAssertLessThan(entropyError, 1e-6, label)
                    XCTAssertLessThan(gradError, 1e-5, label)
                    XCTAssertNil(fused.weightGrad, label)
                    let dense = denseGradients(setting)
                    let fusedError = relativeError(fused.hiddenGrad, dense.hidden)
                    let checkpointedError = relativeError(checkpointed.hiddenGrad, dense.hidden)
                    let headError = relativeError(checkpointed.weightGrad!, dense.weight)
                    print("generalizedJSD vs dense, \(label): d(hidden) fused \(fusedError), checkpointed \(checkpointedError); d(W) \(headError)")
                    XCTAssertLessThan(fusedError, 1e-5, label)
                    XCTAssertLessThan(headError, 1e-5, label)
                }
            }
        }
    }

    /// Without a hidden state that takes gradients the fused path skips J, records nothing and gives the same values.
    func testWithoutGradientsRecordsNothingAndMatches() {
        let setting = Case(beta: 0.5, temperature: 1.3, studentCap: nil, teacherCap: 2)
        let withGrad = run(setting, trainableHead: false, chunkElements: 5 * Self.vocab)
        let (hidden, weight, teacherHidden, teacherWeight) = Self.operands()
        let result = Tensor.generalizedJSD(studentHidden: hidden, studentWeight: weight, teacherHidden: teacherHidden,
                                           teacherWeight: teacherWeight, teacherSoftCap: 2, beta: 0.5, temperature: 1.3,
                                           chunkElements: 5 * Self.vocab)
        XCTAssertNil(result.divergence.node)
        XCTAssertEqual(result.divergence.toArray(), withGrad.divergence)
        XCTAssertEqual(result.entropy, withGrad.entropy)
    }
}
