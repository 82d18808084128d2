import CLibFuzzer
import Foundation

/// Runs libFuzzer with the process's arguments (`-max_total_time=30 corpus/` …), calling
/// `testOneInput` with each input; a crash, a sanitizer report or a timeout ends the process with
/// libFuzzer's report and a non-zero status.
public func runFuzzer(_ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
}

/// The bytes libFuzzer hands to the target, as an array.
public func fuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}
