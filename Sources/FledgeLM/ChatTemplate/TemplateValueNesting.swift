/// How deeply a value the template builds may nest. Printing, comparing and freeing a value recurse
/// once per level, so every value that wraps others (a list, tuple or dictionary literal, `dict(...)`,
/// `namespace(...)`, a namespace's attribute) is measured against ``TemplateLimit/valueDepth``; other
/// operations and functions return values no deeper than their operands, or a level or two deeper
/// at most once per expression. A namespace may not hold another namespace: that keeps values free
/// of cycles and keeps namespaces (the only values a template can change) from chaining without end
/// across loop iterations. Real chat templates store strings, numbers and flags in namespaces.
extension TemplateValue {
    /// Fails unless this value nests at most ``TemplateLimit/valueDepth`` levels of lists, tuples,
    /// dictionaries, namespaces and bound methods' receivers, counting each item visited in `budget`.
    /// `intoNamespace` checks a value about to be stored in a namespace: one level down, and holding none.
    func checkNesting(intoNamespace: Bool = false, at position: SourcePosition, budget: TemplateBudget) throws(TemplateError) {
        try checkNesting(level: intoNamespace ? 1 : 0, insideNamespace: intoNamespace, at: position, budget: budget)
    }

    private func checkNesting(level: Int, insideNamespace: Bool, at position: SourcePosition, budget: TemplateBudget) throws(TemplateError) {
        guard let children = try children(insideNamespace: insideNamespace, at: position) else { return }
        try TemplateLimit.valueDepth.check(level + 1, at: position, Self.tooDeep)
        try budget.charge(1 + children.count, at: position)
        let childrenInsideNamespace = insideNamespace || isNamespace
        for child in children {
            try child.checkNesting(level: level + 1, insideNamespace: childrenInsideNamespace, at: position, budget: budget)
        }
    }

    private static let tooDeep = "this value nests lists, tuples, dictionaries and namespaces more than "
        + "\(TemplateLimit.valueDepth.value) levels deep; build flatter values"

    /// The values this one holds, nil for values that hold none; a namespace inside a namespace is an error.
    private func children(insideNamespace: Bool, at position: SourcePosition) throws(TemplateError) -> [TemplateValue]? {
        switch self {
        case .list(let elements), .tuple(let elements): return elements
        case .dictionary(let dictionary): return dictionary.orderedValues
        case .namespace(let namespace):
            if insideNamespace {
                throw .unsupported("a namespace holding another namespace (directly or inside a list, dictionary or method)", at: position)
            }
            return namespace.attributes.orderedValues
        case .function(let function):
            guard let receiver = function.receiver else { return nil }
            return [receiver]
        case .undefined, .none, .bool, .int, .double, .string: return nil
        }
    }

    private var isNamespace: Bool {
        if case .namespace = self { return true }
        return false
    }
}
