import Foundation
import XCTest
import FledgeLM
import FledgeTensor
@testable import FledgeRL

/// Distillation against TRL 1.16's `DistillationTrainer` (fixtures from
/// `Scripts/reference/make_distillation_fixtures.py`): the SFT fixtures' tiny Qwen2 as the student, a
/// wider two-layer teacher with the same vocabulary, a fixed batch of three completions.
final class DistillationReferenceTests: XCTestCase {
    private static var directory: URL { fixtureURL("distill") }

    private static func expected() throws -> JSONValue {
        try JSONParser.parse([UInt8](Data(contentsOf: directory.appendingPathComponent("expected.json"))))
    }

    private static func teacher() throws -> LanguageModel {
        try LanguageModel(directory: directory.appendingPathComponent("teacher"))
    }

    private static func number(_ value: JSONValue?) -> Double {
        switch value {
        case .int(let number)?: Double(number)
        case .double(let number)?: number
        default: .nan
        }
    }

    /// For beta 0, 0.5 and 1 at temperature 1 and two temperatures ≠ 1: the loss and the entropy metric
    /// equal `DistillationTrainer._compute_loss`'s within 1e-5 relative, and the gradients of the
    /// student's weights PyTorch's within 1e-4 of their largest value.
    func testLossEntropyAndGradientsMatchTRL() throws {
        try checkLossEntropyAndGradientsAgainstTRL(frozenHead: false)
    }

    /// The same with the student's (tied) head frozen, as under LoRA: `generalizedJSD`'s fused path, whose
    /// backward scales the Jacobian kept by the forward; the other weights' gradients are TRL's (freezing a
    /// weight does not change the others').
    func testFrozenHeadLossAndGradientsMatchTRL() throws {
        try checkLossEntropyAndGradientsAgainstTRL(frozenHead: true)
    }

    private func checkLossEntropyAndGradientsAgainstTRL(frozenHead: Bool) throws {
        let expected = try Self.expected()
        let prompts = expected["prompts"]!.list.map(\.ints), completions = expected["completions"]!.list.map(\.ints)
        let gradients = try SafeTensorsFile(url: Self.directory.appendingPathComponent("gradients.safetensors"))
        let teacher = try Self.teacher()
        guard case .object(let cases)? = expected["cases"] else { return XCTFail("no cases") }
        XCTAssertEqual(cases.entries.count, 5)
        for (name, reference) in cases.entries {
            let student = try SFTFixtures.fullyTrainableModel()
            if frozenHead { student.head.weight.requiresGrad = false }
            let loss = DistillationLoss(beta: Self.number(reference["beta"]), temperature: Self.number(reference["temperature"]))
            let result = loss.compute(student: student, teacher: teacher, promptIds: prompts, completionIds: completions,
                                      batchTokens: Int(Self.number(reference["num_items_in_batch"])))
            let expectedLoss = Self.number(reference["loss"]), expectedEntropy = Self.number(reference["entropy"])
            let lossError = abs(Double(result.loss.item()) - expectedLoss) / abs(expectedLoss)
            let entropyError = abs(result.metrics["entropy"]! - expectedEntropy) / abs(expectedEntropy)
            print("distillation \(name)\(frozenHead ? " (frozen head)" : "") vs TRL: loss \(result.loss.item()) (TRL \(expectedLoss)), relative error \(lossError); "
                + "entropy relative error \(entropyError)")
            XCTAssertLessThan(lossError, 1e-5, name)
            XCTAssertLessThan(entropyError, 1e-5, name)
            result.loss.backward()
            for weight in expected["weights"]!.list {
                guard case .string(let weight) = weight else { return XCTFail("a weight name is not a string") }
                if frozenHead && weight == "model.embed_tokens.weight" { continue }
                let referenceGrad = try gradients.tensor("\(name)/\(weight)").toArray()
                let grad = try XCTUnwrap(student.trainableParameters.first { $0.name == weight }?.tensor.grad, weight).toArray()
                let scale = referenceGrad.map(abs).max()!
                let error = maxAbsDifference(grad, referenceGrad) / scale
                print("distillation \(name)\(frozenHead ? " (frozen head)" : "") vs TRL: \(weight) gradient max error \(error) of its largest value \(scale)")
                XCTAssertLessThan(error, 1e-4, "\(name) \(weight)")
            }
        }
    }

    /// Multi-turn completions (`Scripts/reference/make_distillation_tool_fixtures.py`): with tool masks over parts of
    /// two completions, for beta 0, 0.5 and 1, the loss over the student's tokens, the entropy metric and
    /// `num_items_in_batch` equal TRL's `_compute_loss` with its `tool_mask` (loss and entropy within 1e-5 relative),
    /// and the gradients its float64 masked loss's within 1e-4 of their largest value.
    func testToolMaskedLossMatchesTRL() throws {
        let expected = try JSONParser.parse([UInt8](Data(contentsOf: Self.directory.appendingPathComponent("tool_mask.json"))))
        let prompts = expected["prompts"]!.list.map(\.ints), completions = expected["completions"]!.list.map(\.ints)
        let masks = expected["tool_masks"]!.list.map { $0.ints.map { $0 == 1 } }
        let teacher = try Self.teacher()
        guard case .object(let cases)? = expected["cases"] else { return XCTFail("no cases") }
        XCTAssertEqual(cases.entries.count, 3)
        for (name, reference) in cases.entries {
            let items = Int(Self.number(reference["num_items_in_batch"]))
            XCTAssertEqual(masks.joined().filter { $0 }.count, items, "num_items_in_batch counts the student's tokens only")
            let student = try SFTFixtures.fullyTrainableModel()
            let result = DistillationLoss(beta: Self.number(reference["beta"]), temperature: 1).compute(
                student: student, teacher: teacher, promptIds: prompts, completionIds: completions, lossTokens: masks,
                batchTokens: items)
            let expectedLoss = Self.number(reference["loss"]), expectedEntropy = Self.number(reference["entropy"])
            let lossError = abs(Double(result.loss.item()) - expectedLoss) / abs(expectedLoss)
            let entropyError = abs(result.metrics["entropy"]! - expectedEntropy) / abs(expectedEntropy)
            print("distillation with tool masks \(name) vs TRL: loss \(result.loss.item()) (TRL \(expectedLoss)), relative error "
                + "\(lossError); entropy relative error \(entropyError)")
            XCTAssertLessThan(lossError, 1e-5, name)
            XCTAssertLessThan(entropyError, 1e-5, name)
            result.loss.backward()
            guard case .object(let weights)? = reference["gradients"] else { return XCTFail("no gradients") }
            for (weight, values) in weights.entries {
                let referenceGrad = values.list.map { Float(Self.number($0)) }
                let grad = try XCTUnwrap(student.trainableParameters.first { $0.name == weight }?.tensor.grad, weight).toArray()
                let scale = referenceGrad.map(abs).max()!
                let error = maxAbsDifference(grad, referenceGrad) / scale
                print("distillation with tool masks \(name) vs TRL: \(weight) gradient max error \(error) of its largest value \(scale)")
                XCTAssertLessThan(error, 1e-4, "\(name) \(weight)")
            }
        }
    }

    /// Blocks of a few positions give the divergence, entropy and gradients of one block (the chunked
    /// backward recomputes each block), for each kind of divergence and a soft-capped student.
    func testChunkedDivergenceEqualsOneBlock() throws {
        let expected = try Self.expected()
        let prompts = expected["prompts"]!.list.map(\.ints), completions = expected["completions"]!.list.map(\.ints)
        let teacher = try Self.teacher()
        let sequences = zip(prompts, completions).map { $0 + $1 }, scoredFrom = prompts.map(\.count)
        let teacherHidden = Tensor.withoutGrad { teacher.scoredHiddenStates(sequences, scoredFrom: scoredFrom) }
        for (beta, softCap) in [(Float(0), Float?.none), (0.3, 5), (1, nil)] {
            var results: [(divergence: [Float], entropy: [Float], grad: [Float])] = []
            for chunk in [1 << 20, 2 * 1205, 1] {
                let student = try SFTFixtures.fullyTrainableModel()
                let hidden = student.scoredHiddenStates(sequences, scoredFrom: scoredFrom)
                let result = Tensor.generalizedJSD(
                    studentHidden: hidden, studentWeight: student.head.weight, studentSoftCap: softCap,
                    teacherHidden: teacherHidden, teacherWeight: teacher.head.weight, beta: beta, temperature: 0.8,
                    chunkElements: chunk)
                (result.divergence * Tensor(shape: [10], values: (0..<10).map { Float($0 + 1) })).sum().backward()
                results.append((result.divergence.toArray(), result.entropy,
                                student.trainableParameters.first { $0.name == "model.embed_tokens.weight" }!.tensor.grad!.toArray()))
            }
            func relative(_ a: [Float], _ b: [Float]) -> Float { maxAbsDifference(a, b) / b.map(abs).max()! }
            for other in results.dropFirst() {
                XCTAssertLessThan(relative(other.divergence, results[0].divergence), 1e-5, "beta \(beta)")
                XCTAssertLessThan(relative(other.entropy, results[0].entropy), 1e-5, "beta \(beta)")
                XCTAssertLessThan(relative(other.grad, results[0].grad), 1e-5, "beta \(beta)")
            }
            XCTAssert(results[0].divergence.allSatisfy { $0 >= -1e-6 && $0.isFinite }, "beta \(beta): \(results[0].divergence)")
        }
    }

    /// A teacher with another vocabulary is refused by name.
    func testTeacherWithAnotherVocabularyIsRefused() throws {
        let student = try SFTFixtures.fullyTrainableModel()
        var config = DistillationConfig()
        config.training.perDeviceTrainBatchSize = 1
        config.training.gradientAccumulationSteps = 1
        let otherVocabulary = try LanguageModel(directory: fixtureURL("grpo/model"))  // 32 tokens
        let dataset = PromptDataset(rows: [PromptDataset.Row(prompt: .string("hi"), promptIds: [5, 6], columns: JSONObject())],
                                    file: URL(fileURLWithPath: "prompts.jsonl"))
        XCTAssertThrowsError(try Distillation(model: student, teacher: otherVocabulary, tokenizer: try SFTFixtures.tokenizer(),
                                              dataset: dataset, config: config)) { error in
            XCTAssert("\(error)".contains("vocab_size"), "\(error)")
        }
    }
}
