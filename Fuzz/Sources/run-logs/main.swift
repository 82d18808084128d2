import Foundation
import FledgeRL
import FuzzSupport

/// A run directory's JSON Lines logs as `fledge report` and a resumed run read them: the completion
/// log (`CompletionLogFile.read`, and its truncation on resume) and the metrics log.
func fuzzRunLogs(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let file = ScratchDirectory.write(fuzzInput(data, size), to: CompletionLogFile.name)
    _ = try? CompletionLogFile.read(file)
    _ = try? MetricsFile.records(at: file)
    if (try? CompletionLogFile(directory: file.deletingLastPathComponent(), completedSteps: 2)) != nil {
        _ = try? CompletionLogFile.read(file)
    }
    return 0
}

runFuzzer(fuzzRunLogs)
