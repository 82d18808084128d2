/// Evaluating expressions. Nested expressions evaluate recursively, one level of the stack per level
/// of the expression, so `evaluate(_:)` only dispatches, binding nothing, and each helper takes apart
/// its own kind of expression: in a debug build every binding of a function has a stack slot of its
/// own, and a dispatcher binding every case's parts would cost a few times more stack per level.
extension TemplateRenderer {
    func evaluate(_ expression: TemplateExpression) throws(TemplateError) -> TemplateValue {
        depth += 1
        defer { depth -= 1 }
        switch expression {
        case .literal, .variable, .conditional: return try simple(expression)
        case .list, .tuple: return try collection(expression)
        case .dictionary: return try dictionary(expression)
        case .attribute, .subscript_: return try access(expression)
        case .slice: return try slice(expression)
        case .call: return try call(expression)
        case .filter: return try filter(expression)
        case .test: return try test(expression)
        case .unary: return try unary(expression)
        case .binary: return try binary(expression)
        }
    }

    /// A literal, a variable or a conditional expression.
    private func simple(_ expression: TemplateExpression) throws(TemplateError) -> TemplateValue {
        switch expression {
        case .literal(let value): return value
        case .variable(let name): return lookUp(name)
        case .conditional(let condition, let then, let otherwise):
            if try evaluate(condition).isTruthy { return try evaluate(then) }
            guard let otherwise else { return .undefined("conditional expression") }
            return try evaluate(otherwise)
        default: preconditionFailure("evaluate(_:) dispatches only literals, variables and conditionals here")
        }
    }

    private func collection(_ expression: TemplateExpression) throws(TemplateError) -> TemplateValue {
        let (elements, isTuple, position): ([TemplateExpression], Bool, SourcePosition)
        switch expression {
        case .list(let items, let at): (elements, isTuple, position) = (items, false, at)
        case .tuple(let items, let at): (elements, isTuple, position) = (items, true, at)
        default: preconditionFailure("evaluate(_:) dispatches only lists and tuples here")
        }
        try budget.charge(1 + elements.count, at: position)
        var values: [TemplateValue] = []
        for element in elements { values.append(try evaluate(element)) }
        let value: TemplateValue = isTuple ? .tuple(values) : .list(values)
        try value.checkNesting(at: position, budget: budget)
        return value
    }

    private func dictionary(_ expression: TemplateExpression) throws(TemplateError) -> TemplateValue {
        guard case .dictionary(let entries, let position) = expression else { preconditionFailure("evaluate(_:) dispatches only dictionaries here") }
        try budget.charge(1 + entries.count, at: position)
        var dictionary = OrderedStringDictionary<TemplateValue>()
        for (keyExpression, valueExpression) in entries {
            guard case .string(let key) = try evaluate(keyExpression) else {
                throw .unsupported("a dictionary literal with a non-string key", at: position)
            }
            dictionary[key] = try evaluate(valueExpression)
        }
        let value = TemplateValue.dictionary(dictionary)
        try value.checkNesting(at: position, budget: budget)
        return value
    }

    /// `base.name` or `base[key]`.
    private func access(_ expression: TemplateExpression) throws(TemplateError) -> TemplateValue {
        switch expression {
        case .attribute(let base, let name, let position):
            try budget.charge(1, at: position)
            return try TemplateOperations.attribute(try evaluate(base), name, at: position)
        case .subscript_(let base, let key, let position):
            try budget.charge(1, at: position)
            let value = try evaluate(base)
            return try TemplateOperations.item(value, try evaluate(key), at: position, budget: budget)
        default: preconditionFailure("evaluate(_:) dispatches only attributes and subscripts here")
        }
    }

    /// `base[start:stop:step]`.
    private func slice(_ expression: TemplateExpression) throws(TemplateError) -> TemplateValue {
        guard case .slice(let base, let start, let stop, let step, let position) = expression else { preconditionFailure("evaluate(_:) dispatches only slices here") }
        try budget.charge(1, at: position)
        let value = try evaluate(base)
        let bounds = [try start.map(evaluate), try stop.map(evaluate), try step.map(evaluate)]
        return try TemplateOperations.slice(value, start: bounds[0], stop: bounds[1], step: bounds[2], at: position, budget: budget)
    }

    /// A call: only through calls (of macros) can rendering recurse without end, so the render depth is checked here.
    /// (Of the functions, only `namespace` and `dict` wrap their arguments in a new value, and they measure it.)
    private func call(_ expression: TemplateExpression) throws(TemplateError) -> TemplateValue {
        guard case .call(let callee, let arguments, let position) = expression else { preconditionFailure("evaluate(_:) dispatches only calls here") }
        try budget.charge(1, at: position)
        try TemplateLimit.renderDepth.check(depth, at: position, Self.renderDepthMessage)
        let function = try evaluate(callee)
        guard case .function(let callable) = function else { throw Self.notCallable(function, callee, at: position) }
        let (positional, keywords) = try evaluate(arguments)
        return try callable.call(positional, keywords, position, budget)
    }

    private static let renderDepthMessage = "statements, expressions and macro calls run more than \(TemplateLimit.renderDepth.value) "
        + "levels inside one another; a macro that calls itself without end?"

    private static func notCallable(_ function: TemplateValue, _ callee: TemplateExpression, at position: SourcePosition) -> TemplateError {
        .runtime(function.isUndefined ? "'\(callee.displayName)' is undefined" : "'\(function.typeName)' object is not callable", at: position)
    }

    private func filter(_ expression: TemplateExpression) throws(TemplateError) -> TemplateValue {
        guard case .filter(let base, let name, let arguments, let position) = expression else { preconditionFailure("evaluate(_:) dispatches only filters here") }
        try budget.charge(1, at: position)
        let (positional, keywords) = try evaluate(arguments)
        return try TemplateFilters.apply(name, to: try evaluate(base), positional, keywords, at: position, budget: budget)
    }

    private func test(_ expression: TemplateExpression) throws(TemplateError) -> TemplateValue {
        guard case .test(let base, let name, let arguments, let negated, let position) = expression else { preconditionFailure("evaluate(_:) dispatches only tests here") }
        try budget.charge(1, at: position)
        let (positional, _) = try evaluate(arguments)
        let result = try TemplateTests.apply(name, to: try evaluate(base), positional, at: position, budget: budget)
        return .bool(result != negated)
    }

    private func unary(_ expression: TemplateExpression) throws(TemplateError) -> TemplateValue {
        guard case .unary(let op, let operand, let position) = expression else { preconditionFailure("evaluate(_:) dispatches only unary operators here") }
        try budget.charge(1, at: position)
        return try TemplateOperations.unary(op, try evaluate(operand), at: position)
    }

    /// A binary operator; `and` and `or` evaluate their right operand only when Python would.
    private func binary(_ expression: TemplateExpression) throws(TemplateError) -> TemplateValue {
        guard case .binary(let op, let left, let right, let position) = expression else { preconditionFailure("evaluate(_:) dispatches only binary operators here") }
        try budget.charge(1, at: position)
        let value = try evaluate(left)
        switch op {
        case "and": return value.isTruthy ? try evaluate(right) : value
        case "or": return value.isTruthy ? value : try evaluate(right)
        default: return try TemplateOperations.binary(op, value, try evaluate(right), at: position, budget: budget)
        }
    }

    private func evaluate(_ arguments: TemplateExpression.Arguments) throws(TemplateError) -> ([TemplateValue], OrderedStringDictionary<TemplateValue>) {
        var positional: [TemplateValue] = []
        for argument in arguments.positional { positional.append(try evaluate(argument)) }
        var keywords = OrderedStringDictionary<TemplateValue>()
        for (name, argument) in arguments.keywords { keywords[name] = try evaluate(argument) }
        return (positional, keywords)
    }
}

extension TemplateExpression {
    /// A short rendering of the expression for error messages.
    var displayName: String {
        switch self {
        case .variable(let name): name
        case .attribute(let base, let name, _): "\(base.displayName).\(name)"
        default: "expression"
        }
    }
}
