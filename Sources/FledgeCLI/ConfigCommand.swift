import ArgumentParser
import Foundation
import FledgeRL

/// `fledge config …`: work with TRL-style config files.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check TRL-style config files.",
        subcommands: [ConfigCheckCommand.self])
}

/// `fledge config check FILE`: resolve a config and print it with every change, warning, note and error.
struct ConfigCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Resolve a config file (YAML or JSON) and report what Fledge changes or rejects.",
        discussion: "Exits with 0 when the config is usable and 2 when it is not.")

    @Argument(help: "The config file (YAML or JSON, TRL field names).")
    var file: String

    @Option(help: "The trainer: grpo, dpo, ppo, sft, rloo or reward (default: the file's `trainer:`, else grpo).")
    var trainer: TrainerKind?

    @Option(help: "The defaults: unsloth or trl (default: the file's `defaults:`, else unsloth).")
    var defaults: DefaultsPreset?

    @Option(parsing: .unconditional, help: "Processes training together (default: $WORLD_SIZE, else 1).")
    var worldSize: Int?

    @Option(name: .customLong("set"), help: "Override a field, e.g. --set learning_rate=1e-5 (repeatable).")
    var overrides: [String] = []

    @Flag(help: "Print one JSON object {config, changes, warnings, notes, errors}.")
    var json = false

    func run() throws {
        let resolved: any ResolvedConfig
        do {
            let document = try ConfigDocument(contentsOf: URL(fileURLWithPath: file))
            let options = ConfigOptions(
                trainer: trainer, preset: defaults, worldSize: worldSize,
                overrides: try ConfigDocument(overrides: overrides))
            resolved = ConfigResolver.resolve(document, options: options)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        print(json ? ConfigReportRendering.json(of: resolved) : ConfigReportRendering.text(of: resolved))
        if !resolved.report.isUsable { throw ExitCode(2) }
    }
}

extension TrainerKind: ExpressibleByArgument {}
extension DefaultsPreset: ExpressibleByArgument {}
