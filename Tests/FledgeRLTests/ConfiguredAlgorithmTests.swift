import Foundation
import XCTest
@testable import FledgeRL

/// The library's factory (``ConfiguredAlgorithm``): an algorithm built from a resolved config as the
/// `fledge` training commands build it.
final class ConfiguredAlgorithmTests: TemporaryDirectoryTestCase {
    /// SFT from a config: the training and test splits read and tokenized as `SFTDataset` reads them,
    /// the config's batch sizes, LoRA on the model the trainer updates, and a line naming the data.
    func testSFTIsBuiltFromItsConfig() throws {
        let data = directory.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let rows = SFTFixtures.directory.appendingPathComponent("prompt_completion.jsonl")
        for split in ["train", "test"] {
            try FileManager.default.copyItem(at: rows, to: data.appendingPathComponent("\(split).jsonl"))
        }
        let resolved = try resolve(SFTConfig.self, """
            model_name_or_path: \(SFTFixtures.modelDirectory.path)
            dataset_name: \(data.path)
            output_dir: \(directory.appendingPathComponent("run").path)
            use_peft: true
            max_length: 32
            per_device_train_batch_size: 3
            per_device_eval_batch_size: 2
            eval_strategy: steps
            eval_steps: 1
            """)
        XCTAssert(resolved.report.isUsable, "\(resolved.report.messages)")
        var lines: [String] = []
        let prepared = try SFT.prepare(resolved.config, progress: { lines.append($0) })
        let expected = try SFTDataset(file: rows, tokenizer: try SFTFixtures.tokenizer(), config: resolved.config).sequences
        let sft = prepared.algorithm
        XCTAssertEqual(sft.train.map(\.ids), expected.map(\.ids))
        XCTAssertEqual(sft.train.map(\.trained), expected.map(\.trained))
        XCTAssertEqual(sft.evaluation?.map(\.ids), expected.map(\.ids))
        XCTAssertEqual(sft.batchSize, 3)
        XCTAssertEqual(sft.evaluationBatchSize, 2)
        XCTAssertTrue(sft.model.hasAdapters)
        XCTAssertTrue(prepared.model as AnyObject === sft.model)
        XCTAssertEqual(prepared.arguments, resolved.config.training)
        XCTAssertEqual(lines.count, 1)
        XCTAssertEqual(lines[0], "\(expected.count) prompt/completion examples from \(data.path)/train.jsonl, \(expected.count) for evaluation")
    }

    /// DPO and PPO measure the policy against a reference: by default the model with its adapters
    /// off, so a fully fine-tuned model without a given reference is an error saying how to give one.
    func testFullFineTuningWithoutAReferenceIsAnError() throws {
        let ids = [1, 2, 3, 4, 5, 6]
        let pair = PreferencePair(chosen: CompletionSequence(ids: ids, completionStart: 4),
                                  rejected: CompletionSequence(ids: Array(ids.prefix(4)) + [6, 5], completionStart: 4))
        var config = DPOConfig()
        config.training.outputDir = directory.path
        XCTAssertThrowsError(try DPO(model: try SFTFixtures.fullyTrainableModel(), train: [pair], config: config)) { error in
            XCTAssert("\(error)".contains("pass one (ReferencePolicy.of(model), a frozen copy), or use LoRA"), "\(error)")
        }
        let model = try SFTFixtures.model()
        try model.addLoRA(LoRAOptions(r: 2, alpha: 4, seed: 1))
        XCTAssertNoThrow(try DPO(model: model, train: [pair], config: config))
    }

    /// The trainers that do not split their batches over processes refuse a run of several, before
    /// loading anything.
    func testOneProcessTrainersRefuseSeveralProcesses() throws {
        func check(_ prepare: () throws -> Void, _ trainer: String) {
            XCTAssertThrowsError(try prepare()) { error in
                XCTAssertEqual("\(error)", "\(trainer) trains in one process; run it without mpirun (2 processes here)")
            }
        }
        check({ _ = try DPO.prepare(DPOConfig(), communicator: TwoProcesses()) }, "dpo")
        check({ _ = try PPO.prepare(PPOConfig(), communicator: TwoProcesses()) }, "ppo")
        check({ _ = try RLOO.prepare(RLOOConfig(), communicator: TwoProcesses()) }, "rloo")
    }
}

/// A communicator of two processes whose collectives are never reached.
private final class TwoProcesses: Communicator {
    let rank = 0, size = 2, collectiveSeconds = 0.0
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>, purpose: String) throws { XCTFail("no collective expected") }
    func allReduceSum(_ values: [Double], purpose: String) throws -> [Double] { values }
    func allGather(_ values: [Double], purpose: String) throws -> [[Double]] { [values] }
    func allGather(_ bytes: [UInt8], purpose: String) throws -> [[UInt8]] { [bytes] }
    func abort(_ message: String) -> Never { fatalError(message) }
}
