import ArgumentParser
import Foundation
import FledgeRL

/// Runs a trainer from the command line: progress on standard error, Ctrl-C to stop with a
/// checkpoint, and a summary at the end.
struct TrainingRun<Algorithm: TrainingAlgorithm> {
    let trainer: Trainer<Algorithm>
    let config: any ResolvedConfig

    /// Trains; exits with status 130 when Ctrl-C stopped the run (after its checkpoint was saved), 143
    /// when SIGTERM did.
    /// In a run of several processes only process 0 shows progress and the summary.
    func run() throws {
        trainer.resolvedConfig = config
        let display = isPrimaryProcess ? ProgressDisplay() : nil
        trainer.observer = display
        let outcome: TrainingOutcome
        let interrupt = InterruptHandler(stopping: trainer.stopRequest)
        defer { withExtendedLifetime(interrupt) {} }
        do {
            outcome = try trainer.train()
        } catch {
            display?.finish()
            throw error
        }
        display?.finish()
        guard isPrimaryProcess else {
            if outcome.status == .stopped { throw ExitCode(interrupt.stopExitStatus) }
            return
        }
        let output = trainer.checkpoints.directory.path
        switch outcome.status {
        case .completed:
            print("trained \(outcome.state.globalStep) steps; weights, metrics.jsonl and checkpoints are in \(output)")
        case .stopped:
            let next = trainer.arguments.saveOnlyModel
                ? "it holds the weights only (save_only_model), so it cannot be resumed"
                : "continue with --set resume_from_checkpoint=true"
            print("stopped at step \(outcome.state.globalStep) of \(outcome.state.maxSteps); checkpoint "
                + "\(outcome.lastCheckpoint?.path ?? "none"); \(next)")
            throw ExitCode(interrupt.stopExitStatus)
        }
    }
}

extension TrainingRun where Algorithm: ConfiguredAlgorithm {
    /// Resolves a training command's config (for the `communicator`'s processes; without one, for
    /// `WORLD_SIZE` or one process), builds the algorithm it describes with the library's factory
    /// (``ConfiguredAlgorithm``), noting what was loaded on standard error, and trains it.
    static func train(_ options: TrainingCommandOptions, communicator: (any Communicator)? = nil) throws {
        let resolution = try options.resolve(Algorithm.Config.self, worldSize: communicator?.size)
        let prepared = try Algorithm.prepare(resolution.config, communicator: communicator ?? SingleProcess(), progress: note)
        try TrainingRun(trainer: try prepared.trainer(), config: resolution).run()
    }
}
