import Dispatch
import Foundation
import FledgeRL
import Synchronization

/// Turns the first Ctrl-C (SIGINT) or SIGTERM into a stop request — the run saves a checkpoint at the
/// end of the current step and exits — and lets a second one of the same signal end the process at
/// once. Batch schedulers (Slurm, Kubernetes) send SIGTERM some time before they kill a job. SIGUSR1
/// requests the same stop: Open MPI's `mpirun` forwards it to every process (Ctrl-C makes it kill the job).
final class InterruptHandler {
    private let sources: [DispatchSourceSignal]
    private let stopSignal = FirstSignal()

    init(stopping request: StopRequest) {
        var sources: [DispatchSourceSignal] = []
        signal(SIGUSR1, SIG_IGN)
        let forwarded = DispatchSource.makeSignalSource(signal: SIGUSR1, queue: .global())
        forwarded.setEventHandler { request.request() }
        sources.append(forwarded)
        for (number, name) in [(SIGINT, "interrupted"), (SIGTERM, "terminated (SIGTERM)")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            let again = number == SIGINT ? "press Ctrl-C again" : "send SIGTERM again"
            source.setEventHandler { [source, stopSignal] in
                stopSignal.record(number)
                request.request()
                FileHandle.standardError.write(Data(
                    "\n\(name): saving a checkpoint after this step (\(again) to quit without saving)\n".utf8))
                source.cancel()
                signal(number, SIG_DFL)
            }
            sources.append(source)
        }
        self.sources = sources
        for source in sources { source.resume() }
    }

    /// The exit status of a run this handler stopped: 128 + the signal's number, as a shell reports a
    /// process the signal ended (130 for Ctrl-C, 143 for SIGTERM); 130 when SIGUSR1 asked for the stop.
    var stopExitStatus: Int32 {
        let number = stopSignal.number
        return 128 + (number == 0 ? SIGINT : number)
    }

    deinit {
        for source in sources { source.cancel() }
        for number in [SIGINT, SIGTERM, SIGUSR1] { signal(number, SIG_DFL) }
    }
}

/// The first stopping signal received, set from a signal handler's queue.
private final class FirstSignal: Sendable {
    private let value = Atomic<Int32>(0)

    /// Keeps `number` unless a signal was recorded before.
    func record(_ number: Int32) { _ = value.compareExchange(expected: 0, desired: number, ordering: .relaxed) }

    /// The recorded signal's number; 0 when none was.
    var number: Int32 { value.load(ordering: .relaxed) }
}
