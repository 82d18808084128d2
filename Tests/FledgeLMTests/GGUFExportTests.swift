import Foundation
import XCTest
@testable import FledgeLM
import FledgeTensor

/// `export` round trips: a model written as GGUF (or as a safetensors directory) and read back by
/// Fledge computes the log-probs of the model it was written from — identically in F32, within the
/// stated tolerance of each narrower type — with its tokenizer and chat template.
final class GGUFExportTests: XCTestCase {
    private func scoreIds(_ name: String) throws -> [[Int]] {
        try XCTUnwrap(try GGUFFixtures.expected(name)["score"] as? [[String: Any]]).map { try XCTUnwrap($0["ids"] as? [Int]) }
    }

    private func worstDifference(_ a: LanguageModel, _ b: LanguageModel, _ sequences: [[Int]]) -> Float {
        var worst: Float = 0
        for ids in sequences {
            for (x, y) in zip(a.tokenLogProbs([ids])[0], b.tokenLogProbs([ids])[0]) { worst = max(worst, abs(x - y)) }
        }
        return worst
    }

    /// The model directory fixture `name`, the model, and the F32 GGUF file it was exported to, read back.
    private func exportedGGUF(of name: String) throws -> (directory: URL, model: LanguageModel, url: URL, exported: LanguageModel) {
        let directory = Fixtures.directory.appendingPathComponent("models/\(name)")
        let model = try LanguageModel(directory: directory)
        let url = try temporaryDirectory(self).appendingPathComponent("\(name).gguf")
        try model.export(to: url, format: .gguf)
        return (directory, model, url, try LanguageModel(directory: url))
    }

    func testF32GGUFReadsBackWithIdenticalLogProbs() throws {
        for name in ["llama_f32", "llama_mixed", "qwen2_f16", "qwen3_bf16"] {
            let model = try LanguageModel(directory: GGUFFixtures.url(name))
            let url = try temporaryDirectory(self).appendingPathComponent("out.gguf")
            try model.export(to: url, format: .gguf, type: .f32)
            let exported = try LanguageModel(directory: url)
            XCTAssertEqual(exported.config.rope, model.config.rope, name)
            XCTAssertEqual(exported.config.rmsNormEps, model.config.rmsNormEps, name)
            XCTAssertEqual(exported.config.tieWordEmbeddings, model.config.tieWordEmbeddings, name)
            XCTAssertEqual(worstDifference(model, exported, try scoreIds(name)), 0, name)
            let file = try GGUFFile(url: url)
            XCTAssertEqual(try file.integer("general.file_type"), 0, name)
            XCTAssertEqual(file.tensorInfos.filter { $0.dimensions.count == 1 }.map(\.type.name).uniqued(), ["F32"], name)
            let source = try Tokenizer(directory: GGUFFixtures.url(name).path), copy = try Tokenizer(directory: url.path)
            let text = "Hello wörld 123 <|im_start|>ok"
            XCTAssertEqual(copy.encode(text), source.encode(text), name)
            XCTAssertEqual(copy.config.chatTemplates, source.config.chatTemplates, name)
        }
    }

    /// Each narrower type within its tolerance of the F32 model (tiny random fixtures, whose
    /// log-probs span tens of nats, so the bounds are loose in absolute terms); matrices only are
    /// narrowed.
    func testNarrowerTypesStayWithinTheirTolerances() throws {
        let name = "llama_f32"
        let model = try LanguageModel(directory: GGUFFixtures.url(name))
        for (type, tolerance, matrixType) in [(ExportType.f16, Float(5e-2), "F16"), (.bf16, 0.5, "BF16"), (.q8_0, 1, "Q8_0"),
                                              (.q4_0, 8, "Q4_0")] {
            let url = try temporaryDirectory(self).appendingPathComponent("out.gguf")
            try model.export(to: url, format: .gguf, type: type)
            let file = try GGUFFile(url: url)
            XCTAssertEqual(file.tensorInfos.filter { $0.dimensions.count == 2 }.map(\.type.name).uniqued(), [matrixType], "\(type)")
            let worst = worstDifference(model, try LanguageModel(directory: url), try scoreIds(name))
            print("\(name) as \(type): log-probs max abs difference \(worst)")
            XCTAssertGreaterThan(worst, 0, "\(type)")
            XCTAssertLessThan(worst, tolerance, "\(type)")
        }
    }

    func testQ4KFallsBackToQ8_0ForRowsThatAreNotWholeSuperBlocks() {
        XCTAssertEqual(ExportType.q4_k.ggmlType(shape: [8, 512]).name, "Q4_K")
        XCTAssertEqual(ExportType.q4_k.ggmlType(shape: [8, 576]).name, "Q8_0")
        XCTAssertEqual(ExportType.q4_k.ggmlType(shape: [8, 40]).name, "F16")
        XCTAssertEqual(ExportType.q8_0.ggmlType(shape: [576]).name, "F32")
    }

    func testLlamaQueryAndKeyRowsArePermutedAsConvertHFToGGUFDoes() throws {
        // Two heads of four rows: within a head, Hugging Face rows [0, 1 | 2, 3] (two halves) become [0, 2, 1, 3].
        let tensor = Tensor(shape: [8, 1], values: (0..<8).map(Float.init))
        let permuted = try PretrainedModel.permuteRows(tensor, heads: 2, file: "f", tensor: "q")
        XCTAssertEqual(permuted.toArray(), [0, 2, 1, 3, 4, 6, 5, 7])
        let order = try Checkpoint.unpermutedRowOrder(rows: 8, heads: 2, file: "f", tensor: "q")
        XCTAssertEqual(permuted.indexSelect(order, indexShape: [8]).toArray(), tensor.toArray())
    }

    func testModelDirectoryWithItsTokenizerExportsToGGUF() throws {
        let (directory, model, url, exported) = try exportedGGUF(of: "qwen2_text")
        XCTAssertEqual(exported.config.eosTokenIds, model.config.eosTokenIds)
        XCTAssertEqual(worstDifference(model, exported, [[5, 17, 300, 2, 999, 41], [1, 2, 3]]), 0)
        let file = try GGUFFile(url: url)
        XCTAssertEqual(try file.string("tokenizer.ggml.pre"), "qwen2")
        XCTAssertEqual(try file.string("tokenizer.ggml.model"), "gpt2")
        let source = try Tokenizer(directory: directory.path), copy = try Tokenizer(directory: url.path)
        for text in ["Hello wörld 123\n\n  x<|im_start|>user", "def f(x):\n    return x ** 2  # ünïcode ✓"] {
            XCTAssertEqual(copy.encode(text), source.encode(text), text)
            XCTAssertEqual(copy.encode(text, addSpecialTokens: true), source.encode(text, addSpecialTokens: true), text)
        }
        XCTAssertEqual(copy.config.chatTemplates, source.config.chatTemplates)
        XCTAssertEqual(copy.config.eosToken, source.config.eosToken)
    }

    func testLlamaWithBiasAndLinearRopeRoundTrips() throws {
        let (_, model, _, exported) = try exportedGGUF(of: "llama_gqa_bias_linear")
        XCTAssertEqual(exported.config.rope, model.config.rope)
        XCTAssertEqual(worstDifference(model, exported, [[5, 17, 30, 2, 99, 41]]), 0)
    }

    func testGGUFModelExportsAsADirectoryWithItsTokenizer() throws {
        let model = try LanguageModel(directory: GGUFFixtures.url("qwen2_f16"))
        let directory = try temporaryDirectory(self)
        try model.export(to: directory, format: .safetensors, type: .f32)
        let saved = try LanguageModel(directory: directory)
        XCTAssertEqual(worstDifference(model, saved, try scoreIds("qwen2_f16")), 0)
        let source = try Tokenizer(directory: GGUFFixtures.url("qwen2_f16").path), copy = try Tokenizer(directory: directory.path)
        let text = "Hello wörld 123 <|im_start|>ok"
        XCTAssertEqual(copy.encode(text, addSpecialTokens: true), source.encode(text, addSpecialTokens: true))
        XCTAssertEqual(copy.config.chatTemplates, source.config.chatTemplates)
        XCTAssertEqual(copy.config.specialTokens, source.config.specialTokens)
    }

    func testLoRAAdapterIsMergedIntoTheExportedWeights() throws {
        let model = try LanguageModel(directory: LoRAFixtures.base)
        let sequences = try LoRAFixtures.sequences()
        let url = try temporaryDirectory(self).appendingPathComponent("base.gguf")
        try model.export(to: url, format: .gguf)
        let base = try LanguageModel(directory: url)
        try model.loadAdapter(from: LoRAFixtures.fledgeAdapter)
        try model.export(to: url, format: .gguf)
        let merged = try LanguageModel(directory: url)
        let worst = worstDifference(model, merged, sequences)
        print("adapter merged into GGUF: log-probs max abs difference \(worst)")
        XCTAssertLessThan(worst, 1e-5)
        XCTAssertGreaterThan(worstDifference(model, base, sequences), 1e-3, "the adapter changes the log-probs")
    }

    func testRefusals() throws {
        let model = try LanguageModel(directory: Fixtures.directory.appendingPathComponent("models/mistral_sliding"))
        let url = try temporaryDirectory(self).appendingPathComponent("mistral.gguf")
        XCTAssertThrowsError(try model.export(to: url, format: .gguf)) { error in
            XCTAssertTrue("\(error)".contains("model_type") && "\(error)".contains("mistral"), "\(error)")
        }
        XCTAssertThrowsError(try model.export(to: url.deletingLastPathComponent(), format: .safetensors, type: .q4_k)) { error in
            XCTAssertTrue("\(error)".contains("q4_k") && "\(error)".contains("safetensors"), "\(error)")
        }
    }
}

private extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen: Set<Element> = []
        return filter { seen.insert($0).inserted }
    }
}
