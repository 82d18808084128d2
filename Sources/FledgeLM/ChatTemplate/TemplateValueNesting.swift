/// How deeply a value the template builds may nest. Printing, comparing and freeing a value recurse
/// once per level, so every value built from others (a literal, a call's result, a namespace's
/// attribute) is measured against ``TemplateLimit/valueDepth``. A namespace may not hold another
/// namespace: that keeps values free of cycles and keeps namespaces from chaining without end
/// across loop iterations. Real chat templates store strings, numbers and flags in namespaces.
extension TemplateValue {
    /// Fails unless this value nests at most ``TemplateLimit/valueDepth`` levels of lists, tuples,
    /// dictionaries, namespaces and bound methods' receivers, counting each item visited in `budget`.
    /// `intoNamespace` checks a value about to be stored in a namespace: one level down, and holding none.
    func checkNesting(intoNamespace: Bool = false, at position: SourcePosition, budget: TemplateBudget) throws(TemplateError) {
        try checkNesting(level: intoNamespace ? 1 : 0, insideNamespace: intoNamespace, at: position, budget: budget)
    }

    private func checkNesting(level: Int, insideNamespace: Bool, at position: SourcePosition, budget: TemplateBudget) throws(TemplateError) {
        let children: [TemplateValue]
        var childrenInsideNamespace = insideNamespace
        switch self {
        case .list(let elements), .tuple(let elements): children = elements
        case .dictionary(let dictionary): children = dictionary.orderedValues
        case .namespace(let namespace):
            if insideNamespace {
                throw .unsupported("a namespace holding another namespace (directly or inside a list, dictionary or method)", at: position)
            }
            children = namespace.attributes.orderedValues
            childrenInsideNamespace = true
        case .function(let function): children = function.receiver.map { [$0] } ?? []
        case .undefined, .none, .bool, .int, .double, .string: return
        }
        try TemplateLimit.valueDepth.check(level + 1, at: position,
            "this value nests lists, tuples, dictionaries and namespaces more than \(TemplateLimit.valueDepth.value) levels deep; "
                + "build flatter values")
        try budget.charge(1 + children.count, at: position)
        for child in children {
            try child.checkNesting(level: level + 1, insideNamespace: childrenInsideNamespace, at: position, budget: budget)
        }
    }
}
