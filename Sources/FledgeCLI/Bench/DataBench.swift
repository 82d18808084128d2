import ArgumentParser
import FledgeRL
import Foundation

/// `fledge bench data`: the time to read a data file into rows, as `Scripts/bench/data_bench.py` times
/// pyarrow's `read_table(…).to_pylist()`.
struct DataBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Time reading a data file (Parquet, Arrow, JSON, CSV) into rows (best of the repeats, one thread).")

    @Option(name: .long, help: "The data file.")
    var file: String

    @Option(name: .long, help: "Timed repetitions (the best is reported).")
    var repeats = 5

    @Flag(name: .long, help: "Print one JSON line instead of text.")
    var json = false

    func run() throws {
        let url = URL(fileURLWithPath: file)
        var rows = 0
        let seconds = try fastestRun(of: repeats) { rows = try DataFileReader.read(url).rows.count }
        report(["bench": "data", "file": url.lastPathComponent, "rows": rows, "seconds": seconds,
                "rows_per_second": Double(rows) / seconds], json: json)
    }
}
