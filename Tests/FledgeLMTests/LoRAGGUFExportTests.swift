import Foundation
import XCTest
@testable import FledgeLM
import FledgeTensor

/// `saveLoRAGGUF`: the adapters alone as a llama.cpp LoRA adapter GGUF, laid out as
/// convert_lora_to_gguf.py lays it out, read back by the GGUF reader; applied the way llama.cpp
/// applies it (`W + alpha/r · lora_b·lora_a` on the base file's tensors), it gives the weights of the
/// merged export.
final class LoRAGGUFExportTests: XCTestCase {
    /// The llama fixture with LoRA r 4 (lora_alpha 8, rank-stabilised when `rsLoRA`) on every
    /// projection, B drawn at random so that every row differs.
    private func adaptedModel(rsLoRA: Bool = false) throws -> LanguageModel {
        let model = try LanguageModel(directory: GGUFFixtures.url("llama_f32"))
        try model.addLoRA(LoRAOptions(r: 4, alpha: 8, targetModules: [LoRAOptions.allLinear], useRSLoRA: rsLoRA, seed: 5))
        var generator = SeededGenerator(seed: 11)
        for (_, adapter) in model.loraModules {
            adapter.b.assign(Tensor.normal(adapter.b.shape, standardDeviation: 0.05, using: &generator))
        }
        return model
    }

    func testLayoutMetadataAndTensorsReadBack() throws {
        let model = try adaptedModel()
        let url = try temporaryDirectory(self).appendingPathComponent("adapter.gguf")
        try model.saveLoRAGGUF(to: url)
        let file = try GGUFFile(url: url)
        XCTAssertEqual(try file.string("general.architecture"), "llama")
        XCTAssertEqual(try file.string("general.type"), "adapter")
        XCTAssertEqual(try file.string("adapter.type"), "lora")
        XCTAssertEqual(try file.number("adapter.lora.alpha"), 8)
        XCTAssertEqual(try file.integer("general.file_type"), 0)
        let modules = model.loraModules
        XCTAssertEqual(file.tensorInfos.count, 2 * modules.count)
        XCTAssertEqual(modules.count, 7 * model.config.layers)
        for (module, adapter) in modules {
            let name = try XCTUnwrap(GGUFTensorNames.ggufName(module + ".weight", architecture: GGUFArchitecture.all[0]), module)
            let a = try XCTUnwrap(file.info(name + ".lora_a"), name), b = try XCTUnwrap(file.info(name + ".lora_b"), name)
            // ggml's order: lora_a [in, r], lora_b [r, out], as llama.cpp's adapter loader checks them.
            XCTAssertEqual(a.dimensions, [adapter.a.shape[1], 4], name)
            XCTAssertEqual(b.dimensions, [4, adapter.b.shape[0]], name)
            XCTAssertEqual(a.type.name, "F32", name)
            XCTAssertEqual(try file.tensor(name + ".lora_a").toArray(), adapter.a.toArray(), name)
            let (query, key) = GGUFTensorNames.isQueryOrKeyProjection(name)
            let expectedB = query || key
                ? try PretrainedModel.permuteRows(adapter.b, heads: query ? model.config.heads : model.config.kvHeads, file: "", tensor: name)
                : adapter.b
            XCTAssertEqual(try file.tensor(name + ".lora_b").toArray(), expectedB.toArray(), name)
            if query { XCTAssertNotEqual(expectedB.toArray(), adapter.b.toArray(), "the query rows are permuted") }
        }
    }

    /// llama.cpp's sum over the base export and the adapter file equals the merged export, for
    /// plain and rank-stabilised scaling (`adapter.lora.alpha` = scale · r).
    func testBasePlusAdapterAsLlamaCppAppliesItIsTheMergedExport() throws {
        for rsLoRA in [false, true] {
            let model = try adaptedModel(rsLoRA: rsLoRA)
            let folder = try temporaryDirectory(self)
            let base = folder.appendingPathComponent("base.gguf"), merged = folder.appendingPathComponent("merged.gguf")
            let adapter = folder.appendingPathComponent("adapter.gguf")
            try model.export(to: base, format: .gguf, mergeAdapters: false)
            try model.export(to: merged, format: .gguf, mergeAdapters: true)
            try model.saveLoRAGGUF(to: adapter)
            let baseFile = try GGUFFile(url: base), mergedFile = try GGUFFile(url: merged), adapterFile = try GGUFFile(url: adapter)
            let alpha = Float(try XCTUnwrap(try adapterFile.number("adapter.lora.alpha")))
            XCTAssertEqual(alpha, model.loraOptions!.scale * 4, accuracy: 1e-6)
            for info in adapterFile.tensorInfos where info.name.hasSuffix(".lora_a") {
                let name = String(info.name.dropLast(".lora_a".count))
                let a = try adapterFile.tensor(name + ".lora_a"), b = try adapterFile.tensor(name + ".lora_b")
                let rank = Float(b.shape[1])
                let applied = try baseFile.tensor(name) + (alpha / rank) * b.matmul(a)
                let expected = try mergedFile.tensor(name).toArray()
                let worst = zip(applied.toArray(), expected).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThan(worst, 1e-6, "\(name) rsLoRA \(rsLoRA)")
            }
            XCTAssertNotEqual(try baseFile.tensor("blk.0.attn_q.weight").toArray(), try mergedFile.tensor("blk.0.attn_q.weight").toArray())
        }
    }

    func testTypesAndErrors() throws {
        let model = try adaptedModel()
        let folder = try temporaryDirectory(self)
        try model.saveLoRAGGUF(to: folder.appendingPathComponent("f16.gguf"), type: .f16)
        let file = try GGUFFile(url: folder.appendingPathComponent("f16.gguf"))
        XCTAssertEqual(Set(file.tensorInfos.map(\.type.name)), ["F16"])
        XCTAssertThrowsError(try model.saveLoRAGGUF(to: folder.appendingPathComponent("q4.gguf"), type: .q4_0)) {
            XCTAssertTrue("\($0)".contains("q4_0") && "\($0)".contains("f32, f16, bf16, q8_0"), "\($0)")
        }
        let plain = try LanguageModel(directory: GGUFFixtures.url("llama_f32"))
        XCTAssertThrowsError(try plain.saveLoRAGGUF(to: folder.appendingPathComponent("none.gguf"))) {
            XCTAssertTrue("\($0)".contains("saveLoRAGGUF"), "\($0)")
        }
    }
}
