import Foundation
import XCTest
@testable import FledgeRL

/// `fledge report`: a GRPO run with evaluation and completion logs becomes one self-contained HTML
/// page, which headless Chromium renders with its charts, evaluation table and completion table.
/// The rendering part is skipped, with a message, where Chromium is not installed (`.ci/run`
/// installs Debian's `chromium`).
final class ReportTests: TemporaryDirectoryTestCase {
    /// A 4-step GRPO run on the demo model with `eval_strategy` and `log_completions`.
    private func trainedRun() throws -> URL {
        let split = ArithmeticTask().split(seed: 4, train: 16, heldOut: 8)
        let folder = directory.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, problems) in [("train", split.train), ("test", split.heldOut)] {
            let lines = problems.map { #"{"prompt": "\#($0.prompt)", "answer": "\#($0.answer)"}"# }
            try (lines.joined(separator: "\n") + "\n").write(to: folder.appendingPathComponent("\(name).jsonl"), atomically: true,
                                                              encoding: .utf8)
        }
        let config = try writeLines([
            "trainer: grpo", "model_name_or_path: \(GRPOTrainingTests.modelDirectory.path)", "dataset_name: \(folder.path)",
            "use_peft: true", "lora_target_modules: all-linear", "reward_funcs: [answer]", "per_device_train_batch_size: 16",
            "num_generations: 4", "max_completion_length: 5", "learning_rate: 0.01", "logging_steps: 1", "max_steps: 4",
            "gradient_checkpointing: false", "save_strategy: \"no\"", "eval_strategy: steps", "eval_steps: 2",
            "gradient_accumulation_steps: 1",
            "per_device_eval_batch_size: 8", "num_generations_eval: 2", "log_completions: true",
        ], to: "run.yaml")
        let run = directory.appendingPathComponent("run <&> ü")
        try runFledge(["grpo", "--config", config.path, "--set", "output_dir=\(run.path)"])
        return run
    }

    func testReportIsSelfContainedAndRendersInChromium() throws {
        let run = try trainedRun()
        try runFledge(["report", run.path])
        let page = run.appendingPathComponent("report.html")
        let html = try String(contentsOf: page, encoding: .utf8)
        // Nothing is loaded from elsewhere.
        for reference in ["src=\"http", "href=\"http", "src=\"//", "@import", "url(http", "<link", "<script src"] {
            XCTAssertFalse(html.contains(reference), "the report refers to something outside it: \(reference)")
        }
        XCTAssert(html.contains("run &lt;&amp;&gt; ü"), "the title is escaped")
        XCTAssertEqual(html.components(separatedBy: "<tr data-step=").count - 1, 4 * 16, "one table row per logged completion")
        let evaluation = try XCTUnwrap(html.components(separatedBy: "<table id=\"evaluation-table\">").last?.components(separatedBy: "</table>").first)
        XCTAssert(evaluation.contains("<th>reward</th>") && evaluation.contains("<th>accuracy</th>"), evaluation)
        XCTAssertEqual(evaluation.components(separatedBy: "<tr>").count - 1, 3, "a header and the evaluations at steps 2 and 4")
        XCTAssert(html.contains("trainer: grpo"), "the effective config")

        guard let chromium = ["chromium", "chromium-browser", "google-chrome"].lazy.compactMap(Self.executable).first else {
            throw XCTSkip("headless Chromium is not installed (apt-get install -y chromium); the rendering checks are skipped")
        }
        let screenshot = directory.appendingPathComponent("report.png")
        let common = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                      "--window-size=1280,2400"]
        let dom = try Self.run(chromium, common + ["--dump-dom", page.absoluteString])
        // The page's script ran (it fills the count of shown rows) and the charts and tables are in the DOM.
        XCTAssert(dom.contains("64 shown"), "the completion filter's script did not run:\n\(dom.suffix(2000))")
        XCTAssertGreaterThanOrEqual(dom.components(separatedBy: "<polyline").count - 1, 3, "too few chart lines")
        XCTAssert(dom.contains("id=\"completions-table\""), "no completion table")
        XCTAssert(dom.contains("id=\"evaluation-table\""), "no evaluation table")
        _ = try Self.run(chromium, common + ["--screenshot=\(screenshot.path)", page.absoluteString])
        let png = try Data(contentsOf: screenshot)
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "not a PNG")
        let width = png[16..<20].reduce(0) { $0 << 8 | Int($1) }, height = png[20..<24].reduce(0) { $0 << 8 | Int($1) }
        XCTAssertEqual(width, 1280)
        XCTAssertEqual(height, 2400)
        // A blank page compresses to a few kilobytes; charts and tables do not.
        XCTAssertGreaterThan(png.count, 50_000, "the screenshot looks empty")
        if let keep = ProcessInfo.processInfo.environment["FLEDGE_REPORT_SCREENSHOT"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(at: screenshot, to: URL(fileURLWithPath: keep))
        }
    }

    func testReportNeedsMetrics() throws {
        let result = try runFledge(["report", directory.path], expectSuccess: false)
        XCTAssertNotEqual(result.status, 0)
        XCTAssert(result.output.contains("metrics.jsonl: not found"), result.output)
    }

    private static func executable(_ name: String) -> URL? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return paths.map { URL(fileURLWithPath: String($0)).appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// Runs `program` and returns its standard output; fails after 120 s.
    private static func run(_ program: URL, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = program
        process.arguments = arguments
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString).txt")
        try Data().write(to: output)
        let handle = try FileHandle(forWritingTo: output)
        defer { try? handle.close(); try? FileManager.default.removeItem(at: output) }
        process.standardOutput = handle
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning {
            process.terminate()
            XCTFail("\(program.lastPathComponent) did not end within 120 s")
        }
        return try String(contentsOf: output, encoding: .utf8)
    }
}
