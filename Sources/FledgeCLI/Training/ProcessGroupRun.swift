import ArgumentParser
import Foundation
import FledgeRL

/// Runs a training command in each process of the run: joins the processes an MPI launcher
/// started (or runs alone), then shuts MPI down after success. An error on any process ends every
/// process at once (`MPI_Abort`) with the error printed, instead of leaving the others waiting.
enum ProcessGroupRun {
    static func run(_ body: (any Communicator) throws -> Void) throws {
        let communicator: any Communicator
        do {
            communicator = try ProcessGroup.join(environment: ProcessInfo.processInfo.environment)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
        guard let mpi = communicator as? MPICommunicator else { return try body(communicator) }
        do {
            try body(communicator)
        } catch let code as ExitCode where code.rawValue == 130 {
            // Every process stopped at the same step after the checkpoint (the stop is agreed on).
            try mpi.finish()
            throw code
        } catch let code as ExitCode {
            mpi.abort("stopped with exit status \(code.rawValue); see the messages above")
        } catch {
            mpi.abort("\(error)")
        }
        try mpi.finish()
    }
}
