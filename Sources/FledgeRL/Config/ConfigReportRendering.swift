extension ConfigMessage {
    /// The message as a JSON object: changes as `{"field","from","to","reason"}`, others as
    /// `{"field","value","message"}`.
    var json: String {
        let field = ConfigValue.jsonString(self.field)
        if let newValue {
            return "{\"field\": \(field), \"from\": \(value.json), \"to\": \(newValue.json), "
                + "\"reason\": \(ConfigValue.jsonString(text))}"
        }
        return "{\"field\": \(field), \"value\": \(value.json), \"message\": \(ConfigValue.jsonString(text))}"
    }
}

/// The human and JSON forms of `fledge config check`'s output; the training commands print the same.
public enum ConfigReportRendering {
    /// The effective config as `name: value` lines, then the changes, warnings, notes and errors.
    public static func text(of resolved: any ResolvedConfig) -> String {
        var lines = ["# \(resolved.trainer.trlConfigName), defaults: \(resolved.preset.rawValue), world size \(resolved.worldSize)"]
        for entry in resolved.entries {
            let suffix = resolved.derivedFields.contains(entry.key) ? "  # derived" : ""
            lines.append("\(entry.key): \(entry.value.yaml)\(suffix)")
        }
        let report = resolved.report
        for (title, messages) in [
            ("changes", report.changes), ("warnings", report.warnings), ("notes", report.notes),
            ("errors", report.errors),
        ] where !messages.isEmpty {
            lines.append("")
            lines.append("\(title):")
            lines += messages.map { "  \($0)" }
        }
        lines.append("")
        lines.append(report.isUsable ? "config is usable" : "config is not usable: fix the errors above")
        return lines.joined(separator: "\n")
    }

    /// One JSON object: `{"config", "changes", "warnings", "notes", "errors"}`; the config starts with
    /// `trainer` and `defaults`, as `config.resolved.yaml` does.
    public static func json(of resolved: any ResolvedConfig) -> String {
        let report = resolved.report
        func list(_ messages: [ConfigMessage]) -> String { "[" + messages.map(\.json).joined(separator: ", ") + "]" }
        let header = [
            ConfigEntry(key: ConfigResolver.trainerKey, value: .string(resolved.trainer.rawValue)),
            ConfigEntry(key: ConfigResolver.presetKey, value: .string(resolved.preset.rawValue)),
        ]
        return "{\"config\": \(ConfigValue.map(header + resolved.entries).json), \"changes\": \(list(report.changes)), "
            + "\"warnings\": \(list(report.warnings)), \"notes\": \(list(report.notes)), "
            + "\"errors\": \(list(report.errors))}"
    }
}
