import Foundation
import XCTest

/// `fledge export`: a GGUF fixture exported as a GGUF file and as a safetensors directory, each
/// read by `fledge score` and `fledge generate`, gives transformers' log-probs (within 1e-4) and
/// greedy tokens for the source file; bad option combinations are refused before any loading.
final class ExportCommandTests: TemporaryDirectoryTestCase {
    func testExportedGGUFAndDirectoryScoreAndGenerateAsTheSource() throws {
        let source = GGUFFixtureFiles.url("llama_mixed.gguf")
        let gguf = directory.appendingPathComponent("exported.gguf"), folder = directory.appendingPathComponent("exported")
        let written = try runFledge(["export", "--model", source.path, "--output", gguf.path, "--format", "gguf"])
        XCTAssertTrue(written.output.contains("wrote"), written.output)
        try runFledge(["export", "--model", source.path, "--output", folder.path, "--format", "safetensors", "--dtype", "f32"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("tokenizer.json").path))
        for model in [gguf, folder] {
            try checkScoreAndGenerateCommands(model: model, expected: GGUFFixtureFiles.expected("llama_mixed"), label: model.lastPathComponent, ignoreEOS: true)
        }
    }

    func testRefusesBlockTypesForSafetensorsAndGGUFOutputWithoutTheExtension() throws {
        let source = GGUFFixtureFiles.url("llama_f32.gguf").path
        let blocks = try runFledge(["export", "--model", source, "--output", directory.path, "--format", "safetensors", "--dtype", "q8_0"],
                                   expectSuccess: false)
        XCTAssertNotEqual(blocks.status, 0)
        XCTAssertTrue(blocks.output.contains("--dtype q8_0") && blocks.output.contains("safetensors"), blocks.output)
        let name = try runFledge(["export", "--model", source, "--output", directory.appendingPathComponent("out").path, "--format", "gguf"],
                                 expectSuccess: false)
        XCTAssertTrue(name.output.contains(".gguf"), name.output)
    }
}
