import Foundation
import XCTest
@testable import FledgeRL

/// SFT against TRL's `SFTTrainer` (fixtures from `Scripts/reference/make_sft_fixtures.py`).
final class SFTReferenceTests: XCTestCase {
    /// Every row shape tokenizes to TRL's `input_ids`, and the trained tokens are exactly TRL's
    /// labels that are not -100 (EOS appended, chat template, completion mask, assistant mask from
    /// `{% generation %}` marks, truncation, drops, `eos_token` and a `chat_template_path` file).
    func testDatasetPreparationMatchesTRL() throws {
        let expected = try SFTFixtures.expected()
        let tokenizer = try SFTFixtures.tokenizer()
        for name in ["text", "text_keep_end", "prompt_completion", "prompt_completion_all_tokens",
                     "prompt_completion_truncated", "messages", "conversational_prompt_completion",
                     "messages_assistant_only", "conversational_prompt_completion_assistant_only",
                     "text_eos_token", "messages_template_file"] {
            let reference = try XCTUnwrap(expected[name], name)
            let config = try SFTFixtures.config(reference["config"], name: name)
            let dataset = try SFTDataset(file: SFTFixtures.directory.appendingPathComponent(name + ".jsonl"),
                                         tokenizer: try config.preparedTokenizer(tokenizer), config: config)
            let ids = reference["input_ids"]!.list.map(\.ints)
            let labels = reference["labels"]!.list.map(\.ints)
            XCTAssertEqual(dataset.sequences.map(\.ids), ids, name)
            XCTAssertEqual(dataset.sequences.map(\.trained), labels.map { $0.map { $0 != -100 } }, name)
        }
    }

    /// One optimizer step of two micro-batches: each micro-batch loss equals TRL's `compute_loss`
    /// with `num_items_in_batch`, and the accumulated gradients equal PyTorch's.
    func testStepLossAndGradientsMatchTRL() throws {
        let expected = try XCTUnwrap(SFTFixtures.expected()["step"])
        let model = try SFTFixtures.fullyTrainableModel()
        let dataset = try SFTDataset(file: SFTFixtures.directory.appendingPathComponent("prompt_completion.jsonl"),
                                     tokenizer: try SFTFixtures.tokenizer(), config: Self.config(maxLength: 32))
        let sft = try SFT(model: model, train: dataset.sequences, config: .batches(3, evaluation: 3, dataSeed: 0))
        guard case .int(let targets)? = expected["num_items_in_batch"] else { return XCTFail("no num_items_in_batch") }
        XCTAssertEqual(dataset.sequences.reduce(0) { $0 + $1.targetCount }, targets)
        let losses = expected["losses"]!.doubles
        var worstLoss = 0.0
        for (rows, reference) in zip(expected["micro_batches"]!.list.map(\.ints), losses) {
            let batch = SFT.MicroBatch(sequences: rows.map { dataset.sequences[$0] }, stepTargetCount: targets)
            let loss = try sft.loss(of: batch).loss
            worstLoss = max(worstLoss, abs(Double(loss.item()) - reference) / reference)
            loss.backward()
        }
        print("SFT step vs TRL: loss max relative error \(worstLoss)")
        XCTAssertLessThan(worstLoss, 2e-6)
        let gradients = try SafeTensorsFile(url: SFTFixtures.directory.appendingPathComponent("step.safetensors"))
        for name in gradients.names {
            let reference = try gradients.tensor(name).toArray()
            let grad = try XCTUnwrap(model.trainableParameters.first { $0.name == name }?.tensor.grad, name).toArray()
            let scale = reference.map(abs).max()!
            let error = maxAbsDifference(grad, reference) / scale
            print("SFT step vs TRL: \(name) gradient max error \(error) of its largest value \(scale)")
            XCTAssertLessThan(error, 2e-5, name)
        }
    }

    /// The loss trains only on completion tokens: it equals minus the mean log-probability, from
    /// `sequenceLogProbs`, of the tokens after each prompt.
    func testLossCountsOnlyCompletionTokens() throws {
        let model = try SFTFixtures.model()
        let dataset = try SFTDataset(file: SFTFixtures.directory.appendingPathComponent("prompt_completion.jsonl"),
                                     tokenizer: try SFTFixtures.tokenizer(), config: Self.config(maxLength: 32))
        let rows = Array(dataset.sequences.prefix(4))
        let sft = try SFT(model: model, train: rows, config: .batches(4, evaluation: 4, dataSeed: 0))
        let loss = try Tensor.withoutGrad { try sft.loss(of: sft.microBatches(for: StepPosition(step: 0, epoch: 0, microBatches: 0..<1))[0]) }
        var sum = 0.0, count = 0
        for row in rows {
            let promptLength = row.trained.firstIndex(of: true)!
            XCTAssert(row.trained[promptLength...].allSatisfy { $0 } && !row.trained[..<promptLength].contains(true))
            let logProbs = model.tokenLogProbs([row.ids])[0]  // log p(ids[t]) for t = 1...
            for t in promptLength..<row.ids.count { sum -= Double(logProbs[t - 1]) }
            count += row.ids.count - promptLength
        }
        let handComputed = sum / Double(count)
        print("SFT masked loss \(loss.loss.item()) vs hand-computed \(handComputed)")
        XCTAssertEqual(Double(loss.loss.item()), handComputed, accuracy: 1e-5 * handComputed)
        XCTAssertEqual(loss.tokens, rows.reduce(0) { $0 + $1.ids.count })
    }

    static func config(maxLength: Int?) -> SFTConfig {
        var config = SFTConfig()
        config.maxLength = maxLength
        return config
    }

    /// `eos_token` must be in the vocabulary, and `chat_template_path` must be a template file that
    /// parses; each error names the field.
    func testTokenizerFieldsRefuseWhatTheyCannotUse() throws {
        let tokenizer = try SFTFixtures.tokenizer()
        var config = SFTConfig()
        config.eosToken = "<|no_such_token|>"
        XCTAssertThrowsError(try config.preparedTokenizer(tokenizer)) { error in
            XCTAssert("\(error)".contains("eos_token '<|no_such_token|>' is not in the tokenizer's vocabulary"), "\(error)")
        }
        config.eosToken = nil
        config.chatTemplatePath = SFTFixtures.directory.path
        XCTAssertThrowsError(try config.preparedTokenizer(tokenizer)) { error in
            XCTAssert("\(error)".contains("is not a .jinja or .j2 template file"), "\(error)")
        }
        let broken = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-broken-\(UUID().uuidString).jinja")
        defer { try? FileManager.default.removeItem(at: broken) }
        try "{% for m in messages %}".write(to: broken, atomically: false, encoding: .utf8)
        config.chatTemplatePath = broken.path
        XCTAssertThrowsError(try config.preparedTokenizer(tokenizer)) { error in
            XCTAssert("\(error)".contains("the chat template does not parse"), "\(error)")
        }
    }
}
