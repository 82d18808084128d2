import ArgumentParser
import Foundation
import FledgePlot
import FledgeTensor

/// `fledge report RUN_DIR`: the run as one self-contained HTML page (``RunReport``).
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a run's report: one self-contained HTML file with its charts, evaluations, completions and config.",
        discussion: """
            Reads RUN_DIR/metrics.jsonl, and when present config.resolved.yaml and completions.jsonl (log_completions: \
            true). The page loads nothing from elsewhere: the charts are inline SVG, the completion table filters by \
            step and text with a few lines of inline script.
            """)

    @Argument(help: "A run directory holding metrics.jsonl.") var runDirectory: String
    @Option(help: "The HTML file to write (default: RUN_DIR/report.html).") var output: String?

    func run() throws {
        let (directory, _) = try RunDirectoryArgument.resolve(runDirectory)
        let html = try RunReport(directory: directory).html()
        let url = output.map { URL(fileURLWithPath: $0) } ?? directory.appendingPathComponent("report.html")
        do {
            try AtomicFile.write(Data(html.utf8), to: url)
        } catch {
            throw PlotError("\(url.path): cannot write the report: \(error.localizedDescription)")
        }
        print(url.path)
    }
}
