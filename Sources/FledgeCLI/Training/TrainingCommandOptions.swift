import ArgumentParser
import Foundation
import FledgeRL

/// The options every training command shares: the config file, overrides and defaults.
struct TrainingCommandOptions: ParsableArguments {
    @Option(help: "The config file (YAML or JSON, TRL field names).")
    var config: String

    @Option(name: .customLong("set"), help: "Override a field, e.g. --set learning_rate=1e-5 (repeatable).")
    var overrides: [String] = []

    @Option(help: "The defaults: unsloth or trl (default: the file's `defaults:`, else unsloth).")
    var defaults: DefaultsPreset?

    /// The resolved config for a run of `worldSize` processes (nil: `WORLD_SIZE`, else 1); prints
    /// what the resolver changed or warns about, and refuses (exit 2, with the full report) a
    /// config that is not usable.
    func resolve<Config: TrainerConfig>(_ type: Config.Type, worldSize: Int? = nil) throws -> ConfigResolution<Config> {
        let resolution: ConfigResolution<Config>
        do {
            let document = try ConfigDocument(contentsOf: URL(fileURLWithPath: config))
            let options = ConfigOptions(trainer: Config.trainer, preset: defaults, worldSize: worldSize,
                                        overrides: try ConfigDocument(overrides: overrides))
            resolution = ConfigResolver.resolve(Config.self, document, options: options)
        } catch {
            note("error: \(error)")
            throw ExitCode(2)
        }
        guard resolution.report.isUsable else {
            note(ConfigReportRendering.text(of: resolution))
            throw ExitCode(2)
        }
        for message in resolution.report.changes + resolution.report.warnings { note("config: \(message)") }
        return resolution
    }
}

/// Writes a line to standard error (progress and messages; standard output is for results). In a
/// run of several processes only process 0 writes; the others report only their errors.
func note(_ line: String) {
    guard isPrimaryProcess else { return }
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Whether this process is the only one, or process 0 of those an MPI launcher started.
let isPrimaryProcess = (ProcessGroup.launcherRank(environment: ProcessInfo.processInfo.environment) ?? 0) == 0
