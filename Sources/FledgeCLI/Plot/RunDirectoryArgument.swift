import Foundation
import FledgePlot

/// The run directory that `fledge plot` and `fledge report` read.
enum RunDirectoryArgument {
    /// The directory at `path` and its `metrics.jsonl`; an error says which is missing.
    static func resolve(_ path: String) throws -> (directory: URL, metrics: URL) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw PlotError("\(path): no such directory; give the output directory of a training run")
        }
        let directory = URL(fileURLWithPath: path)
        let metrics = directory.appendingPathComponent(MetricsLog.fileName)
        guard FileManager.default.fileExists(atPath: metrics.path) else {
            throw PlotError("\(metrics.path): not found; a run writes it after its first logged step (see logging_steps)")
        }
        return (directory, metrics)
    }
}
