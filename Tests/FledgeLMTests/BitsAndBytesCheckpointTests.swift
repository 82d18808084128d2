import XCTest
@testable import FledgeLM
import FledgeTensor

/// A model that transformers saved quantized by bitsandbytes (4-bit, NF4 with nested statistics and
/// FP4 without) loads into Fledge's NF4/FP4 blocks as stored: its weights are exactly bitsandbytes'
/// `dequantize_4bit` floats and it computes what transformers computes with them. Malformed
/// quant_state is an error naming the tensor. Fixtures:
/// `Scripts/reference/make_bnb_checkpoint_fixtures.py` (Fixtures/quantized/bnb_*).
final class BitsAndBytesCheckpointTests: XCTestCase {
    private static let directory = Fixtures.directory.appendingPathComponent("quantized")
    private static let variants: [(String, QuantizationFormat)] = [("bnb_nf4_nested", .nf4), ("bnb_fp4", .fp4)]

    private func expected() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: Self.directory.appendingPathComponent("bnb_expected.json"))) as! [String: Any]
    }

    func testWeightsAreBitsAndBytesDequantizedFloats() throws {
        let reference = try SafeTensorsFile(url: Self.directory.appendingPathComponent("bnb_dequantized.safetensors"))
        for (variant, format) in Self.variants {
            let model = try LanguageModel(directory: Self.directory.appendingPathComponent(variant))
            XCTAssertEqual(model.baseQuantization, format, variant)
            for (name, linear) in model.namedLinears {
                let stored = try XCTUnwrap(linear.quantizedWeight, "\(variant) \(name)")
                XCTAssertEqual(stored.format, format)
                let expected = try reference.tensor("\(variant)/\(name).weight").toArray()
                let actual = stored.dequantized().toArray()
                XCTAssertEqual(actual.count, expected.count)
                let differing = zip(actual, expected).filter { $0.bitPattern != $1.bitPattern }.count
                XCTAssertEqual(differing, 0, "\(variant) \(name): values that differ from bitsandbytes' dequantize_4bit")
            }
        }
    }

    func testLogProbsAndGreedyTokensMatchTransformersOnTheDequantizedWeights() throws {
        let expected = try expected()
        let sequences = intRows(expected["sequences"]), prompts = intRows(expected["prompts"])
        let variants = expected["variants"] as! [String: [String: Any]]
        for (variant, format) in Self.variants {
            let reference = try XCTUnwrap(variants[variant])
            let referenceLogProbs = (reference["logprobs"] as! [[NSNumber]]).map { $0.map(\.doubleValue) }
            let url = Self.directory.appendingPathComponent(variant)
            let model = try LanguageModel(directory: url)
            let error = maxAbsDifference(model.tokenLogProbs(sequences), referenceLogProbs)
            print("\(variant): log-probs max abs error vs transformers on the dequantized weights \(error)")
            XCTAssertLessThan(error, 1e-4, variant)
            var options = SamplingOptions()
            options.greedy = true
            options.maxNewTokens = 8
            options.eosTokenIds = []
            for (prompt, tokens) in zip(prompts, intRows(reference["greedy_new_ids"])) {
                XCTAssertEqual(model.generate([prompt], options: options)[0].ids, tokens, "\(variant) greedy after \(prompt)")
            }
            // Asking for the checkpoint's own format keeps its blocks; another format requantizes
            // each weight from the dequantized floats.
            let same = try LanguageModel(directory: url, quantization: BaseQuantization(format))
            XCTAssertEqual(same.tokenLogProbs(sequences), model.tokenLogProbs(sequences), variant)
            let requantized = try LanguageModel(directory: url, quantization: BaseQuantization(.q8_0))
            XCTAssertEqual(requantized.baseQuantization, .q8_0)
            XCTAssertLessThan(maxAbsDifference(requantized.tokenLogProbs(sequences), referenceLogProbs), 1.0, "\(variant) as q8_0")
        }
    }

    func testMalformedQuantStateIsAnErrorNamingTheTensor() throws {
        let weight = "model.layers.0.self_attn.q_proj.weight"
        let state = weight + ".quant_state.bitsandbytes__nf4"
        let cases: [(String, String, ([(name: String, entry: SafeTensorsWriter.Entry)]) -> [(name: String, entry: SafeTensorsWriter.Entry)])] = [
            ("not JSON", state, { replacing(state, in: $0, with: .integers(Array("{oops".utf8).map(Int.init), shape: [5], .uint8)) }),
            ("blocksize 128", state, { rewritingState(state, in: $0) { $0.replacingOccurrences(of: "\"blocksize\": 64", with: "\"blocksize\": 128") } }),
            ("quant_type fp4 under an nf4 name", state, { rewritingState(state, in: $0) { $0.replacingOccurrences(of: "\"nf4\"", with: "\"fp4\"") } }),
            ("shape of other rows", weight, { rewritingState(state, in: $0) { $0.replacingOccurrences(of: "\"shape\": [64, 64]", with: "\"shape\": [32, 64]") } }),
            ("one absmax code short", weight + ".absmax", { entries in
                truncating(weight + ".absmax", in: entries) }),
            ("a custom quant_map", weight + ".quant_map", { entries in
                replacing(weight + ".quant_map", in: entries, with: .float(Tensor(shape: [16], values: (0..<16).map { Float($0) / 15 }), .float32)) }),
            ("no nested_absmax", weight + ".nested_absmax", { $0.filter { $0.name != weight + ".nested_absmax" } }),
            ("codes stored as int8", weight, { entries in
                replacing(weight, in: entries, with: .integers(Array(repeating: 0, count: 2048), shape: [2048, 1], .int8)) }),
        ]
        let source = Self.directory.appendingPathComponent("bnb_nf4_nested")
        let file = try SafeTensorsFile(url: source.appendingPathComponent("model.safetensors"))
        let entries: [(name: String, entry: SafeTensorsWriter.Entry)] = try file.names.map { name in
            let dtype = file.info(name)!.dtype
            return (name, dtype.isFloatingPoint ? .float(try file.tensor(name), dtype)
                                                : .integers(try file.integers(name), shape: file.info(name)!.shape, dtype))
        }
        for (label, tensor, mutate) in cases {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-bnb-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            try FileManager.default.copyItem(at: source.appendingPathComponent("config.json"), to: directory.appendingPathComponent("config.json"))
            try SafeTensorsWriter.write(mutate(entries), to: directory.appendingPathComponent("model.safetensors"))
            XCTAssertThrowsError(try LanguageModel(directory: directory), label) { error in
                XCTAssertTrue("\(error)".contains("'\(tensor)'"), "\(label): \(error)")
            }
        }
    }
}

private typealias Entries = [(name: String, entry: SafeTensorsWriter.Entry)]

private func replacing(_ name: String, in entries: Entries, with entry: SafeTensorsWriter.Entry) -> Entries {
    entries.map { $0.name == name ? (name, entry) : $0 }
}

private func rewritingState(_ name: String, in entries: Entries, _ edit: (String) -> String) -> Entries {
    guard let original = entries.first(where: { $0.name == name }), case .integers(let bytes, _, _) = original.entry else { return entries }
    let text = edit(String(decoding: bytes.map { UInt8($0) }, as: UTF8.self))
    return replacing(name, in: entries, with: .integers(Array(text.utf8).map(Int.init), shape: [text.utf8.count], .uint8))
}

private func truncating(_ name: String, in entries: Entries) -> Entries {
    guard let original = entries.first(where: { $0.name == name }), case .integers(let values, _, let dtype) = original.entry else { return entries }
    return replacing(name, in: entries, with: .integers(Array(values.dropLast()), shape: [values.count - 1], dtype))
}
