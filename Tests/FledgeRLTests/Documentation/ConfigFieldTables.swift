import Foundation
@testable import FledgeRL

/// The field tables of `docs/configuration.md`: every field Fledge reads, grouped as the config types
/// group them, with TRL's and Unsloth's defaults (from resolving an empty config under each preset),
/// the values a numeric field accepts (its range in the field table) and the field's doc comment.
enum ConfigFieldTables {
    /// A group of fields documented in one source file.
    struct Group {
        let title: String
        let source: String
        let names: [String]
        let trainers: [TrainerKind]
    }

    /// The groups: the shared run fields and training arguments, the sampling and tool fields of GRPO and RLOO,
    /// then each trainer's own fields.
    static var groups: [Group] {
        let run = RunArguments.fields.map(\.name)
        let training = TrainingArguments.fields.map(\.name)
        let generation = GenerationArguments.fields.map(\.name)
        let referenceSync = ReferenceSyncArguments.fields.map(\.name)
        let tools = ToolArguments.fields.map(\.name)
        let common = Set(run + training + referenceSync), shared = common.union(generation).union(tools)
        // Only GRPO and RLOO share the sampling fields; another trainer's fields of the same names (distillation's
        // `beta`, `temperature` …) are its own and go in its table. Distillation shares the tool fields too.
        func usesGeneration(_ trainer: TrainerKind) -> Bool { [.grpo, .rloo].contains(trainer) }
        func ownFields(_ trainer: TrainerKind) -> Set<String> {
            usesGeneration(trainer) ? shared : trainer == .distill ? common.union(tools) : common
        }
        return [
            Group(title: "Model, data, LoRA and rewards (every trainer)", source: source("RunArguments.swift"),
                  names: run, trainers: TrainerKind.allCases),
            Group(title: "Training arguments (every trainer)", source: source("TrainingArguments.swift"),
                  names: training, trainers: TrainerKind.allCases),
            Group(title: "Sampling and batching (GRPO, RLOO)", source: source("GenerationArguments.swift"),
                  names: generation, trainers: [.grpo, .rloo]),
            Group(title: "Reference-model syncing (DPO, KTO, GRPO, RLOO)", source: source("ReferenceSync.swift"),
                  names: referenceSync, trainers: [.dpo, .kto, .grpo, .rloo]),
            Group(title: "Tools and environments (GRPO; distillation with tools only, as TRL's DistillationTrainer takes them; "
                    + "RLOO as a Fledge departure, TRL's RLOOTrainer has no tools)",
                  source: source("ToolArguments.swift"), names: tools, trainers: [.grpo, .rloo, .distill]),
        ] + TrainerKind.allCases.map { trainer in
            Group(title: "\(trainer.trlConfigName) (`trainer: \(trainer.rawValue)`)",
                  source: source("\(trainer.trlConfigName).swift"),
                  names: ConfigResolver.fieldNames(of: trainer).filter { !ownFields(trainer).contains($0) },
                  trainers: [trainer])
        }
    }

    /// The path of the FledgeRL source file named `name`, in whichever folder its concept lives.
    private static func source(_ name: String) -> String {
        let matches = RepositoryFiles.files(under: "Sources/FledgeRL", endingWith: name).filter { $0.lastPathComponent == name }
        precondition(matches.count == 1, "\(matches.count) files named \(name) under Sources/FledgeRL")
        return RepositoryFiles.relativePath(matches[0])
    }

    /// An empty config of `trainer` resolved under `preset` in one process.
    static func defaults(_ trainer: TrainerKind, _ preset: DefaultsPreset) -> any ResolvedConfig {
        ConfigResolver.resolve(
            ConfigDocument(source: "defaults", entries: []),
            options: ConfigOptions(trainer: trainer, preset: preset, worldSize: 1))
    }

    /// The Markdown of every group's table; throws when a field has no doc comment.
    static func markdown() throws -> String {
        var resolved: [DefaultsPreset: [TrainerKind: any ResolvedConfig]] = [:]
        for preset in [DefaultsPreset.trl, .unsloth] {
            for trainer in TrainerKind.allCases { resolved[preset, default: [:]][trainer] = defaults(trainer, preset) }
        }
        var sections: [String] = []
        for group in groups where !group.names.isEmpty {
            let docs = try SourceText.fieldDocs(in: group.source)
            var lines = ["### \(group.title)", "", "| field | TRL default | Unsloth default | valid values | meaning |",
                         "|---|---|---|---|---|"]
            for name in group.names {
                guard let doc = docs[name] else { throw UndocumentedField(name: name, source: group.source) }
                let trl = cell(name, group.trainers.map { ($0, resolved[.trl]![$0]!) })
                let unsloth = cell(name, group.trainers.map { ($0, resolved[.unsloth]![$0]!) })
                let choices = choiceNames(name, of: group.trainers[0]).map { " One of \($0.map { "`\($0)`" }.joined(separator: ", "))." }
                let valid = validValues(name, of: group.trainers[0])
                lines.append("| `\(name)` | \(trl) | \(unsloth) | \(valid) | \(doc)\(choices ?? "") |")
            }
            sections.append(lines.joined(separator: "\n"))
        }
        return sections.joined(separator: "\n\n")
    }

    /// The fields `defaults: unsloth` sets differently from `defaults: trl`, and for which trainers.
    static func presetDifferences() -> String {
        var rows: [(name: String, trl: ConfigValue, unsloth: ConfigValue, trainers: [TrainerKind])] = []
        for trainer in TrainerKind.allCases {
            let trl = defaults(trainer, .trl), unsloth = defaults(trainer, .unsloth)
            for entry in trl.entries where !trl.derivedFields.contains(entry.key) {
                guard let other = value(unsloth, entry.key), !ConfigResolver.sameValue(entry.value, other) else { continue }
                if let index = rows.firstIndex(where: { $0.name == entry.key && $0.trl == entry.value && $0.unsloth == other }) {
                    rows[index].trainers.append(trainer)
                } else {
                    rows.append((entry.key, entry.value, other, [trainer]))
                }
            }
        }
        let all = Set(TrainerKind.allCases)
        return (["| field | TRL | Unsloth | trainers |", "|---|---|---|---|"] + rows.map { row in
            let trainers = Set(row.trainers) == all ? "all" : row.trainers.map(\.rawValue).joined(separator: ", ")
            return "| `\(row.name)` | `\(row.trl.yaml)` | `\(row.unsloth.yaml)` | \(trainers) |"
        }).joined(separator: "\n")
    }

    /// The names a choice field accepts, as its type reports them when given a value it does not accept.
    static func choiceNames(_ name: String, of trainer: TrainerKind) -> [String]? {
        choices(of: configType(of: trainer), name)
    }

    /// The values a field accepts as a table cell: its range (for each item of a list), and whether
    /// `null` is accepted; empty for a field that is not a number.
    static func validValues(_ name: String, of trainer: TrainerKind) -> String {
        validValues(of: configType(of: trainer), name)
    }

    /// The config type of `trainer`.
    private static func configType(of trainer: TrainerKind) -> any TrainerConfig.Type {
        let types: [any TrainerConfig.Type] = [GRPOConfig.self, DPOConfig.self, PPOConfig.self, SFTConfig.self, RLOOConfig.self,
                                              RewardConfig.self, KTOConfig.self, DistillationConfig.self]
        return types.first { $0.trainer == trainer }!
    }

    private static func validValues<Config: TrainerConfig>(of type: Config.Type, _ name: String) -> String {
        let field = Config.fields.first { $0.name == name }!
        guard let range = field.range else { return "" }
        var config = Config()
        let isList = (try? field.write(&config, .list([.int(1)]))) != nil
        let allowsNull = (try? field.write(&config, .null)) != nil
        return (isList ? "each in " : "") + "`\(range)`" + (allowsNull ? " or `null`" : "")
    }

    private static func choices<Config: TrainerConfig>(of type: Config.Type, _ name: String) -> [String]? {
        guard let field = Config.fields.first(where: { $0.name == name }) else { return nil }
        var config = Config()
        do {
            try field.write(&config, .string("\u{1}"))
            return nil
        } catch {
            // "one of a, b", "one of a, b or null", "a list of items that are each one of a, b", "… (or true/false)"
            guard let start = error.expected.range(of: "one of ") else { return nil }
            let list = error.expected[start.upperBound...].prefix { $0 != "(" }
            let names = list.replacingOccurrences(of: " or null", with: "").split(separator: ",")
            return names.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }

    /// A default as a table cell: one value, or each value with the trainers that have it; derived
    /// values are marked.
    private static func cell(_ name: String, _ configs: [(TrainerKind, any ResolvedConfig)]) -> String {
        var values: [(text: String, trainers: [TrainerKind])] = []
        for (trainer, resolved) in configs {
            let derived = resolved.derivedFields.contains(name) ? " (derived)" : ""
            let text = "`\(value(resolved, name)!.yaml)`" + derived
            if let index = values.firstIndex(where: { $0.text == text }) {
                values[index].trainers.append(trainer)
            } else {
                values.append((text, [trainer]))
            }
        }
        guard values.count > 1 else { return values[0].text }
        return values.map { "\($0.text) \($0.trainers.map(\.rawValue).joined(separator: ", "))" }.joined(separator: "; ")
    }
}

/// A config field without a doc comment, which the configuration reference cannot describe.
struct UndocumentedField: Error, CustomStringConvertible {
    let name: String
    let source: String
    var description: String { "\(name) in \(source) has no /// doc comment; add one above its property" }
}
