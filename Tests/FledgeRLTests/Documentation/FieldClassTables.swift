import Foundation
@testable import FledgeRL

/// The tables of TRL fields Fledge does not train with: retired ones, unimplemented features and fields
/// that do not apply, each with what the resolver says about it. The names come from the resolver's
/// own tables (quoted names in their source files that the tables know).
enum FieldClassTables {
    private static let directory = "Sources/FledgeRL/Config/"

    /// Retired fields: warning or error, and the advice.
    static func retired() throws -> String {
        let names = try SourceText.quotedNames(in: directory + "RetiredFields.swift").filter { RetiredFields.entry(for: $0) != nil }
        return table(header: "| field | Fledge says |", try names.map { name in
            "| `\(name)` | \(try said(name, .string("x"))) |"
        })
    }

    /// Unimplemented features: accepted at TRL's default with a note, an error otherwise.
    static func unimplemented() throws -> String {
        let names = try SourceText.quotedNames(in: directory + "UnimplementedFields.swift")
            .filter { UnimplementedFields.entry(for: $0) != nil }
        return table(header: "| field | accepted at | any other value |", try names.map { name in
            let entry = UnimplementedFields.entry(for: name)!
            let other: ConfigValue = entry.defaultValue == .bool(false) ? .bool(true) : .string("other")
            return "| `\(name)` | `\(entry.defaultValue.yaml)` | \(try said(name, other)) |"
        })
    }

    /// Fields that do not apply, grouped by the reason given.
    static func notApplicable() throws -> String {
        let names = try SourceText.quotedNames(in: directory + "NotApplicableFields.swift")
            .filter { NotApplicableFields.reason(for: $0) != nil }
        var groups: [(reason: String, names: [String])] = []
        for name in names {
            let reason = NotApplicableFields.reason(for: name)!
            if let index = groups.firstIndex(where: { $0.reason == reason }) {
                groups[index].names.append(name)
            } else {
                groups.append((reason, [name]))
            }
        }
        return table(header: "| note | fields |", groups.map { group in
            "| \(group.reason) | \(group.names.map { "`\($0)`" }.joined(separator: ", ")) |"
        })
    }

    private static func table(header: String, _ rows: [String]) -> String {
        ([header, header.replacingOccurrences(of: #"[^|]+"#, with: "---", options: .regularExpression)] + rows)
            .joined(separator: "\n")
    }

    /// What resolving `name: value` says, for the first trainer (SFT first: the simplest) that has no
    /// field of that name.
    private static func said(_ name: String, _ value: ConfigValue) throws -> String {
        let order: [TrainerKind] = [.sft, .dpo, .ppo, .rloo, .grpo]
        guard let trainer = order.first(where: { !ConfigResolver.fieldNames(of: $0).contains(name) }) else {
            throw SilentTrigger(rule: "field \(name), which every trainer has")
        }
        let document = ConfigDocument(source: "example", entries: [ConfigEntry(key: name, value: value)])
        let resolved = ConfigResolver.resolve(document, options: ConfigOptions(trainer: trainer, worldSize: 1))
        let messages = resolved.report.messages.filter { $0.field == name }
        guard !messages.isEmpty else { throw SilentTrigger(rule: "field \(name)") }
        return messages.map { "**\($0.kind.rawValue)**: \($0.text)" }.joined(separator: "<br>")
    }
}
