import Foundation
import XCTest

/// How a run of the `fledge` executable ended.
struct CommandOutcome {
    let status: Int32
    let output: String
}

extension TemporaryDirectoryTestCase {
    /// Runs `fledge arguments` (the executable of this build, beside the test bundle), under
    /// `mpirun -np 2` when given, and returns its status and output (standard output and error);
    /// fails the test when it does not end within `timeout` seconds or (`expectSuccess`) fails.
    /// `whileRunning` is called with the launched process every 20 ms until it ends.
    @discardableResult
    func runFledge(_ arguments: [String], mpirun: URL? = nil, environment: [String: String] = [:],
                   expectSuccess: Bool = true, timeout: TimeInterval = 300,
                   whileRunning: (Process) -> Void = { _ in }) throws -> CommandOutcome {
        let fledge = try Self.fledgeExecutable()
        let process = Process()
        var variables = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        variables["FLEDGE_NUM_THREADS"] = "1"
        if let mpirun {
            process.executableURL = mpirun
            // Open MPI refuses to run as root unless told; tests may run as root in containers.
            variables["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
            variables["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
            process.arguments = ["-np", "2", "--oversubscribe"] + environment.keys.sorted().flatMap { ["-x", $0] }
                + [fledge.path] + arguments
        } else {
            process.executableURL = fledge
            process.arguments = arguments
        }
        process.environment = variables
        let log = directory.appendingPathComponent("output-\(UUID().uuidString).txt")
        try Data().write(to: log)
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline {
            whileRunning(process)
            usleep(20_000)
        }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            XCTFail("`fledge \(arguments.joined(separator: " "))` did not end within \(Int(timeout)) s")
        }
        let output = try String(contentsOf: log, encoding: .utf8)
        if expectSuccess && process.terminationStatus != 0 {
            XCTFail("`fledge \(arguments.joined(separator: " "))` failed with status \(process.terminationStatus):\n\(output)")
            throw CocoaError(.executableLoad)
        }
        return CommandOutcome(status: process.terminationStatus, output: output)
    }

    /// The `fledge` executable of this build (beside the test bundle).
    static func fledgeExecutable() throws -> URL {
        let folders = [Bundle(for: TemporaryDirectoryTestCase.self).bundleURL.deletingLastPathComponent(),
                       Bundle.main.bundleURL, Bundle.main.executableURL?.deletingLastPathComponent()].compactMap { $0 }
        for folder in folders {
            let candidate = folder.appendingPathComponent("fledge")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        XCTFail("no fledge executable beside the tests in \(folders.map(\.path)); build it with `swift build`")
        throw CocoaError(.fileNoSuchFile)
    }
}
