import Foundation
import XCTest
@testable import FledgeLM
import FledgeTensor

/// `export --format gguf` of the families beyond llama/qwen2/qwen3: the file written reads back as
/// the model it was written from (Gemma's norms shifted by 1 and back, Phi-3's partial rotary and
/// LongRoPE through rope.dimension_count and the factor tensors), with the metadata
/// convert_hf_to_gguf.py writes; configs llama.cpp cannot run are refused by field.
final class GGUFFamilyExportTests: XCTestCase {
    private func worstDifference(_ a: LanguageModel, _ b: LanguageModel, _ sequences: [[Int]]) -> Float {
        var worst: Float = 0
        for ids in sequences {
            for (x, y) in zip(a.tokenLogProbs([ids])[0], b.tokenLogProbs([ids])[0]) { worst = max(worst, abs(x - y)) }
        }
        return worst
    }

    private func exported(_ model: LanguageModel, type: ExportType = .f32) throws -> (URL, LanguageModel) {
        let url = try temporaryDirectory(self).appendingPathComponent("out.gguf")
        try model.export(to: url, format: .gguf, type: type)
        return (url, try LanguageModel(directory: url))
    }

    /// Each converter-made fixture, exported as F32 and read back: the same config and log-probs
    /// (within 1e-5: a Gemma norm weight w read as w − 1 and written as (w − 1) + 1 may differ from w
    /// in its last bit), the same metadata keys as the converter wrote for the family.
    func testConvertedFixturesRoundTrip() throws {
        for name in GGUFFamilyTests.models {
            let model = try LanguageModel(directory: GGUFFamilyTests.url(name))
            let (url, back) = try exported(model)
            XCTAssertEqual(back.config.modelType, model.config.modelType, name)
            XCTAssertEqual(back.config.rope, model.config.rope, name)
            XCTAssertEqual(back.config.headDim, model.config.headDim, name)
            XCTAssertEqual(back.config.tieWordEmbeddings, model.config.tieWordEmbeddings, name)
            let ids = try XCTUnwrap(try GGUFFamilyTests.expected(name)["score"] as? [[String: Any]]).map { try XCTUnwrap($0["ids"] as? [Int]) }
            let worst = worstDifference(model, back, ids)
            print("\(name): exported F32 GGUF read back, log-probs max abs difference \(worst)")
            XCTAssertLessThan(worst, 1e-5, name)
            let source = try GGUFFile(url: GGUFFamilyTests.url(name)), written = try GGUFFile(url: url)
            let familyKeys = { (file: GGUFFile) in
                Set(file.metadataEntries.map(\.key).filter { $0.contains("softcapping") || $0.contains("sliding_window") || $0.contains("freq_base") })
            }
            XCTAssertTrue(familyKeys(source).isSubset(of: familyKeys(written)), "\(name): \(familyKeys(source)) ⊄ \(familyKeys(written))")
            for key in familyKeys(source) {
                XCTAssertEqual(try source.number(key), try written.number(key), "\(name): \(key)")
            }
            for info in source.tensorInfos where GGUFTensorNames.isNormWeight(info.name) {
                let difference = zip(try source.tensor(info.name).toArray(), try written.tensor(info.name).toArray()).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThanOrEqual(difference, 1e-6, "\(name): \(info.name)")
            }
        }
    }

    /// Phi-3 with LongRoPE and partial rotary embeddings (Fixtures/families/phi3): the factors
    /// travel as `rope_factors_long`/`rope_factors_short`, the rotated dims as rope.dimension_count.
    /// Sequences stay within its sliding window (7), which llama.cpp, and so Fledge reading GGUF, ignores.
    func testPhi3LongRopeAndPartialRotaryRoundTrip() throws {
        let model = try LanguageModel(directory: FamilyFixtures.directory("phi3"))
        let (url, back) = try exported(model)
        // The factors are stored as float32, as the converter stores them.
        let (rope, original) = (back.config.rope, model.config.rope)
        XCTAssertEqual(rope.kind, .longrope)
        XCTAssertEqual(rope.partialRotaryFactor, original.partialRotaryFactor)
        XCTAssertEqual(rope.originalMaxPositions, original.originalMaxPositions)
        XCTAssertEqual(rope.longFactor.map(Float.init), original.longFactor.map(Float.init))
        XCTAssertEqual(rope.shortFactor.map(Float.init), original.shortFactor.map(Float.init))
        XCTAssertEqual(Float(rope.attentionFactor), Float(original.attentionFactor))
        XCTAssertEqual(back.config.headDim, model.config.headDim)
        let file = try GGUFFile(url: url)
        XCTAssertEqual(try file.integer("phi3.rope.dimension_count"), 12)
        XCTAssertEqual(try file.integer("phi3.rope.scaling.original_context_length"), 24)
        XCTAssertEqual(try file.tensor("rope_factors_long.weight").toArray(), [1.1, 1.9, 3.4, 5.8, 9.5, 14.0])
        XCTAssertLessThan(worstDifference(model, back, [[5, 17, 30, 2, 99, 41, 7], [3, 1, 4, 1, 5, 9]]), 1e-5)
    }

    func testOLMo2WithAttentionBiasRoundTrips() throws {
        let model = try LanguageModel(directory: FamilyFixtures.directory("olmo2"))
        let (_, back) = try exported(model)
        XCTAssertEqual(worstDifference(model, back, [[5, 17, 30, 2, 99, 41, 7, 150, 3, 3, 12]]), 0)
    }

    /// Llama 3 rope scaling is written as `rope_freqs` (the converter's divisors). With a single
    /// pair in the transition band (Fixtures/models/llama3_tied_bf16: head_dim 16, original context
    /// 16) the divisors do not determine the scaling, and reading the file back says so by tensor.
    func testLlama3RopeIsWrittenAsRopeFreqs() throws {
        let model = try LanguageModel(directory: Fixtures.directory.appendingPathComponent("models/llama3_tied_bf16"))
        let url = try temporaryDirectory(self).appendingPathComponent("out.gguf")
        try model.export(to: url, format: .gguf)
        let divisors = try GGUFFile(url: url).tensor("rope_freqs.weight").toArray()
        XCTAssertEqual(divisors, GGUFLlama3Rope.divisors(model.config.rope, dim: 16))
        XCTAssertEqual(divisors.first.map { $0 > 1 && $0 < 8 }, true)
        XCTAssertEqual(Array(divisors.dropFirst()), Array(repeating: 8, count: 7))
        XCTAssertThrowsError(try LanguageModel(directory: url)) { error in
            XCTAssertTrue("\(error)".contains("rope_freqs.weight") && "\(error)".contains("two are needed"), "\(error)")
        }
    }

    /// What llama.cpp fixes otherwise is refused by the config field.
    func testConfigsLlamaCppCannotRunAreRefused() throws {
        for (name, field) in [("gemma2", "query_pre_attn_scalar"), ("gemma3_text", "query_pre_attn_scalar"), ("smollm3", "no_rope_layers")] {
            let model = try LanguageModel(directory: FamilyFixtures.directory(name))
            let url = try temporaryDirectory(self).appendingPathComponent("out.gguf")
            XCTAssertThrowsError(try model.export(to: url, format: .gguf), name) { error in
                XCTAssertTrue("\(error)".contains(field) && "\(error)".contains("llama.cpp"), "\(name): \(error)")
            }
        }
    }
}
