import Dispatch
import Foundation
import FledgeRL

/// Turns the first Ctrl-C (SIGINT) into a stop request — the run saves a checkpoint at the end of
/// the current step and exits — and lets a second Ctrl-C end the process at once. SIGUSR1 requests
/// the same stop: Open MPI's `mpirun` forwards it to every process (Ctrl-C makes it kill the job).
final class InterruptHandler {
    private let source: DispatchSourceSignal
    private let stopSignal: DispatchSourceSignal

    init(stopping request: StopRequest) {
        signal(SIGUSR1, SIG_IGN)
        stopSignal = DispatchSource.makeSignalSource(signal: SIGUSR1, queue: .global())
        stopSignal.setEventHandler { request.request() }
        stopSignal.resume()
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [source] in
            request.request()
            FileHandle.standardError.write(Data(
                "\ninterrupted: saving a checkpoint after this step (press Ctrl-C again to quit without saving)\n".utf8))
            source.cancel()
            signal(SIGINT, SIG_DFL)
        }
        source.resume()
    }

    deinit {
        source.cancel()
        stopSignal.cancel()
        signal(SIGINT, SIG_DFL)
        signal(SIGUSR1, SIG_DFL)
    }
}
