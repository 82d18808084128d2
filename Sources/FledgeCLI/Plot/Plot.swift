import ArgumentParser
import Foundation
import FledgePlot

/// `fledge plot RUN_DIR`: the run's `metrics.jsonl` as a grid of charts in SVG and PNG.
struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw a run's metrics (RUN_DIR/metrics.jsonl) as charts, in SVG and PNG.",
        discussion: """
            One panel per metric against the step, the most telling first (reward, loss, KL, gradient norm, \
            learning rate, completion length, throughput); variants such as rewards/chosen and rewards/rejected \
            share a panel. Noisy metrics show a smoothed line over the faint raw values.
            """)

    @Argument(help: "A run directory holding metrics.jsonl.") var runDirectory: String
    @Option(help: "Where to write, without extension (default: RUN_DIR/metrics).") var output: String?
    @Option(help: "Metrics to draw, comma-separated, in this order (default: all).") var metrics: String?

    func run() throws {
        let (directory, log) = try RunDirectoryArgument.resolve(runDirectory)
        let records = try MetricsLog.read(log)
        let chosen = metrics?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let base = output.map { URL(fileURLWithPath: $0) } ?? directory.appendingPathComponent("metrics")
        do {
            let written = try MetricsPlot.write(records: records, title: directory.standardizedFileURL.lastPathComponent,
                                                metrics: chosen, to: base)
            print(written.svg.path)
            print(written.png.path)
        } catch let error as ChartError {
            throw PlotError("\(log.path): \(error)")
        }
    }
}

/// A problem with the run directory or its metrics, printed without the usage text.
struct PlotError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
