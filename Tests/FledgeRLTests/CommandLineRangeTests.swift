import XCTest

/// The `fledge` commands refuse values outside the config fields' ranges with a message and an exit
/// status, never a crash, and read files that are not UTF-8 the same way in every command.
final class CommandLineRangeTests: TemporaryDirectoryTestCase {
    private let model = RepositoryFiles.url("examples/demo/model").path

    /// Runs `fledge arguments` and asserts that it ended with `status` and printed `text`.
    private func assertRefused(_ arguments: [String], status: Int32, _ text: String,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let outcome = try runFledge(arguments, expectSuccess: false, timeout: 120)
        XCTAssertEqual(outcome.status, status, outcome.output, file: file, line: line)
        XCTAssert(outcome.output.contains(text), outcome.output, file: file, line: line)
    }

    func testConfigCheckRefusesAWorldSizeOf2To62() throws {
        let config = try writeLines(["trainer: grpo"], to: "config.yaml")
        try assertRefused(["config", "check", config.path, "--world-size", "4611686018427387904"], status: 2,
                          "world_size = 4611686018427387904: set the number of processes (--world-size or WORLD_SIZE) to an "
                              + "integer in [1, 1048576]")
    }

    func testConfigCheckRefusesGradientAccumulationOf2To62() throws {
        let config = try writeLines(["trainer: rloo", "gradient_accumulation_steps: 4611686018427387904"], to: "config.yaml")
        try assertRefused(["config", "check", config.path], status: 2,
                          "gradient_accumulation_steps = 4611686018427387904: must be in [1, 1048576]")
    }

    func testGenerateReadsANegativeMaxNewTokensAsANumberAndRefusesIt() throws {
        try assertRefused(["generate", "--model", model, "--prompt", "1+2=", "--max-new-tokens", "-1"], status: 64,
                          "--max-new-tokens -1: as the config field max_completion_length, it must be in [1, 16777216]")
    }

    func testGenerateRefusesAnInfiniteTemperature() throws {
        try assertRefused(["generate", "--model", model, "--prompt", "1+2=", "--temperature", "inf"], status: 64,
                          "--temperature inf: as the config field temperature, it must be in (0, 10)")
    }

    func testGenerateRefusesAZeroRepetitionPenalty() throws {
        try assertRefused(["generate", "--model", model, "--prompt", "1+2=", "--repetition-penalty", "0"], status: 64,
                          "--repetition-penalty 0.0: as the config field repetition_penalty, it must be positive and finite")
    }

    func testGenerateRefusesACacheBeyondTheMachinesMemory() throws {
        try assertRefused(["generate", "--model", model, "--prompt", "1+2=", "--max-new-tokens", "16777216",
                           "--num-return-sequences", "1048576"], status: 64,
                          "--max-new-tokens 16777216 and --num-return-sequences 1048576 need a generation cache of")
    }

    func testScoreAndTokenizeBothNameTheLineAndByteOfInvalidUTF8() throws {
        let file = directory.appendingPathComponent("rows.jsonl")
        try Data(#"{"text": "1+2="}"#.utf8 + [0x0A] + #"{"text": "1+2="#.utf8 + [0xFF] + #""}"#.utf8 + [0x0A]).write(to: file)
        let message = "\(file.path), line 2, byte 15: not UTF-8 text (byte 0xFF); save the file as UTF-8"
        try assertRefused(["score", "--model", model, "--jsonl", file.path], status: 64, message)
        try assertRefused(["tokenize", "--model", model, "--jsonl", file.path], status: 64, message)
    }

    func testScoreNamesTheLineOfIdsThatAreNotTokenIds() throws {
        let file = directory.appendingPathComponent("ids.jsonl")
        for (ids, shown) in [("[3, -1]", "-1"), ("[3, 1.5]", "1.5"), (#"[3, "4"]"#, #""4""#)] {
            try Data(("{\"ids\": [1, 2]}\n{\"ids\": " + ids + "}\n").utf8).write(to: file)
            try assertRefused(["score", "--model", model, "--jsonl", file.path], status: 64,
                              "\(file.path), line 2: \"ids\" must hold non-negative token ids, got \(shown)")
        }
    }
}
