import Foundation

/// Metrics that belong on one panel: names that differ only in one variant word, such as
/// `rewards/chosen` and `rewards/rejected`, `completions/mean_length`,
/// `completions/min_length` and `completions/max_length`, or `loss/fp32` and `loss/bf16` (one
/// metric of a float32 and a `bf16: true` run, as `Scripts/bench/bf16_curves.py` merges them).
struct MetricGroup: Equatable {
    /// The panel title: the shared name without the variant word (`rewards`, `completions/length`).
    var title: String
    /// The members and their legend labels (the variant word, or the whole name when alone).
    var members: [(metric: String, label: String)]

    static func == (lhs: MetricGroup, rhs: MetricGroup) -> Bool {
        lhs.title == rhs.title && lhs.members.map(\.metric) == rhs.members.map(\.metric)
    }

    /// Variant words, in the order their series are drawn and listed.
    static let variants = ["mean", "min", "max", "chosen", "rejected", "fp32", "bf16"]

    /// `metrics` grouped, each group at the position of its first member.
    static func groups(_ metrics: [String]) -> [MetricGroup] {
        var order: [String] = []
        var members: [String: [(metric: String, label: String)]] = [:]
        for metric in metrics {
            let (key, variant) = pattern(metric)
            if members[key] == nil { order.append(key) }
            members[key, default: []].append((metric, variant ?? metric))
        }
        return order.map { key in
            let group = members[key]!
            guard group.count > 1 else { return MetricGroup(title: group[0].metric, members: [(group[0].metric, group[0].metric)]) }
            let sorted = group.sorted { (variants.firstIndex(of: $0.label) ?? 0) < (variants.firstIndex(of: $1.label) ?? 0) }
            return MetricGroup(title: title(key), members: sorted)
        }
    }

    /// The name with its first variant word replaced by `{}`, and that word.
    private static func pattern(_ metric: String) -> (key: String, variant: String?) {
        var words: [String] = []
        var current = ""
        for character in metric {
            if character == "/" || character == "_" {
                words.append(current)
                words.append(String(character))
                current = ""
            } else {
                current.append(character)
            }
        }
        words.append(current)
        guard let index = words.firstIndex(where: variants.contains) else { return (metric, nil) }
        let variant = words[index]
        words[index] = "{}"
        return (words.joined(), variant)
    }

    /// `completions/{}_length` → `completions/length`; `rewards/{}` → `rewards`.
    private static func title(_ key: String) -> String {
        for form in ["{}_", "_{}", "/{}", "{}/", "{}"] where key.contains(form) {
            return key.replacingOccurrences(of: form, with: "")
        }
        return key
    }
}
