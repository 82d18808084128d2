import Foundation
import XCTest
@testable import FledgeRL

/// SFT packing and the SFT loss fields against TRL 1.16's `SFTTrainer` (fixtures `sft/packing.json`
/// from `Scripts/reference/make_sft_fixtures.py`).
final class SFTPackingTests: XCTestCase {
    private static func packing() throws -> JSONValue {
        try JSONParser.parse([UInt8](Data(contentsOf: SFTFixtures.directory.appendingPathComponent("packing.json"))))
    }

    private static func dataset(_ data: String, config: SFTConfig, evaluation: Bool = false) throws -> SFTDataset {
        try SFTDataset(file: SFTFixtures.directory.appendingPathComponent("packing/\(data).jsonl"),
                       tokenizer: try SFTFixtures.tokenizer(), config: config, evaluation: evaluation)
    }

    /// bfd, bfd_split and wrapped packing give TRL's packed rows exactly: `input_ids`, the trained
    /// tokens (labels not -100) and the documents of each row (`seq_lengths`; a wrapped row is one),
    /// over completion and assistant masks and 1,100 rows (two of `datasets`' map batches).
    func testPackedDatasetsMatchTRL() throws {
        guard case .object(let cases)? = try Self.packing()["datasets"] else { return XCTFail("no datasets") }
        XCTAssertEqual(cases.entries.count, 6)
        for (name, reference) in cases.entries {
            let config = try SFTFixtures.config(reference["config"], name: name)
            let rows = try Self.dataset(name, config: config).sequences
            let ids = reference["input_ids"]!.list.map(\.ints)
            XCTAssertEqual(rows.map(\.ids), ids, name)
            XCTAssertEqual(rows.map(\.trained), reference["labels"]!.list.map { $0.ints.map { $0 != -100 } }, name)
            let documents = reference["seq_lengths"].map { $0.list.map(\.ints) } ?? ids.map { [$0.count] }
            XCTAssertEqual(rows.map(\.documentLengths), documents, name)
            print("packing \(name): \(rows.count) rows equal TRL's")
        }
    }

    /// One step of two micro-batches per case (bfd and wrapped packing, `loss_type: dft`,
    /// `label_smoothing_factor` unpacked and packed): each micro-batch's loss equals TRL's
    /// `compute_loss` with `num_items_in_batch`, the accumulated gradients PyTorch's, and
    /// `evaluate()`'s `eval_loss` the Trainer's.
    func testStepLossesGradientsAndEvalLossMatchTRL() throws {
        guard case .object(let cases)? = try Self.packing()["steps"] else { return XCTFail("no steps") }
        XCTAssertEqual(cases.entries.count, 6)
        for (name, reference) in cases.entries {
            var config = try SFTFixtures.config(reference["config"], name: name)
            config.training.perDeviceTrainBatchSize = 2
            guard case .int(let evaluationBatch)? = reference["eval_batch_size"], case .int(let targets)? = reference["num_items_in_batch"],
                  case .double(let evalLoss)? = reference["eval_loss"], let data = reference["data"]?.stringValue
            else { return XCTFail("\(name): malformed case") }
            config.training.perDeviceEvalBatchSize = evaluationBatch
            let model = try SFTFixtures.fullyTrainableModel()
            let train = try Self.dataset(data, config: config)
            let sft = try SFT(model: model, train: train.sequences,
                              evaluation: try Self.dataset(data, config: config, evaluation: true).sequences, config: config)
            XCTAssertEqual(train.sequences.prefix(4).reduce(0) { $0 + $1.targetCount }, targets, name)
            var worstLoss = 0.0
            for (rows, expected) in zip(reference["micro_batches"]!.list.map(\.ints), reference["losses"]!.doubles) {
                let batch = SFT.MicroBatch(sequences: rows.filter { $0 < train.sequences.count }.map { train.sequences[$0] },
                                           stepTargetCount: targets)
                let loss = try sft.loss(of: batch).loss
                worstLoss = max(worstLoss, abs(Double(loss.item()) - expected) / abs(expected))
                loss.backward()
            }
            let gradients = try SafeTensorsFile(url: SFTFixtures.directory.appendingPathComponent("packing/step_\(name).safetensors"))
            var worstGradient: Float = 0
            for weight in gradients.names {
                let expected = try gradients.tensor(weight).toArray()
                let grad = try XCTUnwrap(model.trainableParameters.first { $0.name == weight }?.tensor.grad, weight).toArray()
                worstGradient = max(worstGradient, maxAbsDifference(grad, expected) / expected.map(abs).max()!)
            }
            let evaluated = try XCTUnwrap(try sft.evaluate()?["loss"])
            let evalError = abs(evaluated - evalLoss) / evalLoss
            print("SFT \(name) vs TRL: loss max relative error \(worstLoss), gradients \(worstGradient) of the largest, eval_loss \(evalError)")
            XCTAssertLessThan(worstLoss, 1e-5, name)
            XCTAssertLessThan(worstGradient, 1e-5, name)
            XCTAssertLessThan(evalError, 1e-5, name)
        }
    }

    /// A packed step trains exactly as its documents would unpacked: the loss of bfd rows run
    /// padding-free equals the loss of the same documents as separate rows of a padded batch, and
    /// so do the gradients, within float rounding.
    func testPackedLossEqualsUnpackedPerDocumentLoss() throws {
        var config = SFTConfig()
        config.maxLength = 32
        config.packing = true
        let rows = try Self.dataset("bfd_text", config: config).sequences
        XCTAssert(rows.contains { $0.documentLengths.count > 1 }, "the fixture packs several documents into a row")
        let targets = rows.reduce(0) { $0 + $1.targetCount }
        func lossAndGradients(_ sequences: [SFTSequence], paddingFree: Bool) throws -> (Double, [[Float]]) {
            let model = try SFTFixtures.fullyTrainableModel()
            var settings = SFTConfig.batches(sequences.count, evaluation: 1, dataSeed: 0)
            settings.packing = paddingFree  // bfd packing runs padding-free
            let sft = try SFT(model: model, train: sequences, config: settings)
            let loss = try sft.loss(of: SFT.MicroBatch(sequences: sequences, stepTargetCount: targets)).loss
            loss.backward()
            return (Double(loss.item()), model.trainableParameters.map { $0.tensor.grad!.toArray() })
        }
        let (packed, packedGradients) = try lossAndGradients(rows, paddingFree: true)
        let documents = rows.flatMap(\.documents)
        XCTAssertEqual(documents.reduce(0) { $0 + $1.targetCount }, targets)
        let (unpacked, unpackedGradients) = try lossAndGradients(documents, paddingFree: false)
        let gradientError = zip(packedGradients, unpackedGradients).map { maxAbsDifference($0, $1) / max($1.map(abs).max()!, 1e-30) }.max()!
        print("packed loss \(packed), unpacked per-document \(unpacked): relative difference \(abs(packed - unpacked) / unpacked), gradients \(gradientError)")
        XCTAssertLessThan(abs(packed - unpacked) / unpacked, 1e-6)
        XCTAssertLessThan(gradientError, 1e-5)
    }

    /// `eval_packing: false` leaves the evaluation split unpacked (and truncated) while training packs;
    /// `eval_packing: true` alone packs it, each row then one sequence as TRL's collator runs it.
    func testEvalPackingFollowsPackingUnlessSet() throws {
        var config = SFTConfig()
        config.maxLength = 16
        config.packing = true
        XCTAssert(try Self.dataset("bfd_text", config: config, evaluation: true).sequences.contains { $0.documentLengths.count > 1 })
        config.evalPacking = false
        let evaluation = try Self.dataset("bfd_text", config: config, evaluation: true).sequences
        XCTAssertEqual(evaluation.count, 10)
        XCTAssert(evaluation.allSatisfy { $0.documentLengths.count == 1 && $0.ids.count <= 16 })
        // eval_packing alone: TRL packs the rows but its collator is not padding-free, so a row is one sequence.
        config.packing = false
        config.evalPacking = true
        let packedOnly = try Self.dataset("bfd_text", config: config, evaluation: true).sequences
        XCTAssertEqual(packedOnly.map(\.ids), try Self.packing()["datasets"]?["bfd_text"]?["input_ids"]?.list.map(\.ints))
        XCTAssert(packedOnly.allSatisfy { $0.documentLengths == [$0.ids.count] })
        XCTAssertEqual(try Self.dataset("bfd_text", config: config).sequences.count, 10)
    }

    /// TRL's refusals and warnings: packing without max_length, label smoothing with dft, keep_end with bfd.
    func testConfigChecks() {
        func report(_ entries: [(String, ConfigValue)]) -> ConfigReport {
            ConfigResolver.resolve(SFTConfig.self, ConfigDocument(source: "t", entries: entries.map { ConfigEntry(key: $0.0, value: $0.1) }),
                                   options: ConfigOptions(preset: .trl)).report
        }
        let noLength = report([("packing", .bool(true)), ("max_length", .null)])
        XCTAssert(noLength.errors.contains { "\($0)".contains("packing needs max_length") }, "\(noLength.errors)")
        let evalNoLength = report([("eval_packing", .bool(true)), ("max_length", .null)])
        XCTAssert(evalNoLength.errors.contains { "\($0)".contains("eval_packing needs max_length") }, "\(evalNoLength.errors)")
        let smoothing = report([("loss_type", .string("dft")), ("label_smoothing_factor", .double(0.1))])
        XCTAssert(smoothing.isUsable && "\(smoothing)".contains("TRL smooths only the nll loss"), "\(smoothing)")
        let evalOnly = report([("eval_packing", .bool(true))])
        XCTAssert(evalOnly.isUsable && "\(evalOnly)".contains("attend to each other as one sequence"), "\(evalOnly)")
        let keepEnd = report([("packing", .bool(true)), ("truncation_mode", .string("keep_end"))])
        XCTAssert(keepEnd.isUsable && "\(keepEnd)".contains("keep their start"), "\(keepEnd)")
        let strategy = report([("packing", .bool(true)), ("packing_strategy", .string("first_fit"))])
        XCTAssertFalse(strategy.isUsable)
        XCTAssert("\(strategy)".contains("bfd, bfd_split, wrapped"), "\(strategy)")
        let loss = report([("loss_type", .string("chunked"))])
        XCTAssert("\(loss)".contains("nll, dft"), "\(loss)")
    }
}

extension SFTPackingTests {
    /// A config built in code that packs without max_length, and packed rows without any trained
    /// token, are refused with the reason; a row without a target in a micro-batch adds nothing.
    func testPackingErrorsAndRowsWithoutTargets() throws {
        var config = SFTConfig()
        config.packing = true
        config.maxLength = nil
        XCTAssertThrowsError(try SFTPackingTests.dataset("bfd_text", config: config)) { error in
            XCTAssert("\(error)".contains("packing needs max_length"), "\(error)")
        }
        config.maxLength = 4
        config.completionOnlyLoss = true
        // Prompts of the prompt/completion rows fill the first 4 tokens: no completion token survives.
        XCTAssertThrowsError(try SFTPackingTests.dataset("bfd_prompt_completion", config: config)) { error in
            XCTAssert("\(error)".contains("no packed row has a trained token"), "\(error)")
        }
        let model = try SFTFixtures.model()
        let row = SFTSequence(ids: [5, 6, 7, 8, 9, 10], trained: [true, true, true, false, false, false], documentLengths: [3, 3])
        let untrained = SFTSequence(ids: [11, 12, 13], trained: [false, true, false], documentLengths: [1, 2])
        XCTAssertEqual(untrained.targetCount, 0)
        var settings = SFTConfig.batches(2, evaluation: 2, dataSeed: 0)
        settings.packing = true  // bfd packing runs padding-free
        let sft = try SFT(model: model, train: [row, untrained], config: settings)
        let both = try Tensor.withoutGrad { try sft.loss(of: SFT.MicroBatch(sequences: [row, untrained], stepTargetCount: 2)).loss.item() }
        let alone = try Tensor.withoutGrad { try sft.loss(of: SFT.MicroBatch(sequences: [row], stepTargetCount: 2)).loss.item() }
        XCTAssertEqual(both, alone, accuracy: 1e-6 * abs(alone))
    }
}
