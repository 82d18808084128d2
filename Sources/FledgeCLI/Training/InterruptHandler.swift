import Dispatch
import Foundation
import FledgeRL

/// Turns the first Ctrl-C (SIGINT) into a stop request — the run saves a checkpoint at the end of
/// the current step and exits — and lets a second Ctrl-C end the process at once.
final class InterruptHandler {
    private let source: DispatchSourceSignal

    init(stopping request: StopRequest) {
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
        signal(SIGINT, SIG_DFL)
    }
}
