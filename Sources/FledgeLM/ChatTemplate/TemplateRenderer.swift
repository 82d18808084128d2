/// Runs parsed template statements with Jinja's semantics (in transformers' sandboxed
/// environment with the loop-controls extension): scopes, loops, macros and namespaces, within
/// ``TemplateLimit``: the renderer counts its recursion and its steps, and measures its output.
final class TemplateRenderer {
    private var scopes: [[String: TemplateValue]]
    private var output = ""
    /// How many `{% set %}` blocks are capturing output right now (their text is not the result's).
    private var captureDepth = 0
    /// How many statements, expressions and macro calls are running inside one another.
    private var depth = 0
    /// The steps this render has taken.
    let budget = TemplateBudget()
    /// UTF-8 byte ranges of the result that `{% generation %}` blocks rendered (the assistant text
    /// transformers masks with `return_assistant_tokens_mask`).
    private(set) var generationSpans: [Range<Int>] = []

    /// What a statement asks of the enclosing loop.
    private enum Flow { case normal, breakLoop, continueLoop }

    init(globals: [String: TemplateValue]) {
        scopes = [globals]
    }

    func render(_ statements: [TemplateStatement]) throws(TemplateError) -> String {
        _ = try execute(statements)
        return output
    }

    // MARK: Variables

    func lookUp(_ name: String) -> TemplateValue {
        for scope in scopes.reversed() { if let value = scope[name] { return value } }
        return TemplateGlobals.builtins[name] ?? .undefined(name)
    }

    private func assign(_ name: String, _ value: TemplateValue) {
        scopes[scopes.count - 1][name] = value
    }

    // MARK: Statements

    private func execute(_ statements: [TemplateStatement]) throws(TemplateError) -> Flow {
        for statement in statements {
            let flow = try execute(statement)
            if flow != .normal { return flow }
        }
        return .normal
    }

    private func execute(_ statement: TemplateStatement) throws(TemplateError) -> Flow {
        depth += 1
        defer { depth -= 1 }
        switch statement {
        case .text(let text, let position):
            try write(text, at: position)
        case .output(let expression):
            let value = try evaluate(expression.node)
            try budget.charge(1, at: expression.position)
            try write(try TemplatePrinter.printed(value, budget: budget, at: expression.position), at: expression.position)
        case .ifChain(let branches, let otherwise):
            for branch in branches {
                try budget.charge(1, at: branch.condition.position)
                if try evaluate(branch.condition.node).isTruthy { return try execute(branch.body) }
            }
            return try execute(otherwise)
        case .forLoop(let targets, let iterable, let filter, let body, let otherwise):
            return try loop(targets: targets, iterable: iterable, filter: filter, body: body, otherwise: otherwise)
        case .set(let target, let value):
            try budget.charge(1, at: value.position)
            let result = try evaluate(value.node)
            switch target {
            case .names(let names) where names.count == 1:
                assign(names[0], result)
            case .names(let names):
                let elements = try TemplateOperations.iterate(result, at: value.position)
                guard elements.count == names.count else {
                    throw .runtime("cannot unpack \(elements.count) values into \(names.count) names", at: value.position)
                }
                for (name, element) in zip(names, elements) { assign(name, element) }
            case .attribute(let object, let name, let position):
                guard case .namespace(let namespace) = lookUp(object) else {
                    throw .runtime("cannot assign attribute on non-namespace object '\(object)'", at: position)
                }
                try result.checkNesting(intoNamespace: true, at: position, budget: budget)
                namespace.attributes[name] = result
            }
        case .setBlock(let name, let body):
            assign(name, .string(try capture(body)))
        case .macro(let name, let parameters, let body):
            assign(name, .function(macro(name: name, parameters: parameters, body: body)))
        case .loopControl(let isBreak):
            return isBreak ? .breakLoop : .continueLoop
        case .generation(let body):
            let start = output.utf8.count
            let flow = try execute(body)
            if captureDepth == 0 { generationSpans.append(start..<output.utf8.count) }
            return flow
        }
        return .normal
    }

    /// Appends `text`, which the template's text or expression at `position` gives, to the output,
    /// within ``TemplateLimit/textLength``.
    private func write(_ text: String, at position: SourcePosition) throws(TemplateError) {
        try TemplateLimit.textLength.check(output.utf8.count + text.utf8.count, at: position,
            "the rendered text would be longer; render fewer or shorter messages")
        try budget.charge(bytes: text.utf8.count, at: position)
        output += text
    }

    /// Renders `body` into a string of its own.
    private func capture(_ body: [TemplateStatement]) throws(TemplateError) -> String {
        let saved = output
        output = ""
        captureDepth += 1
        defer {
            output = saved
            captureDepth -= 1
        }
        _ = try execute(body)
        return output
    }

    /// Each iteration runs in a scope of its own: `{% set %}` in a loop body does not carry over to
    /// the next iteration or out of the loop (namespaces exist for that).
    private func loop(targets: [String], iterable: Located<TemplateExpression>, filter: Located<TemplateExpression>?, body: [TemplateStatement],
                      otherwise: [TemplateStatement]) throws(TemplateError) -> Flow {
        var items = try TemplateOperations.iterate(try evaluate(iterable.node), at: iterable.position)
        if let filter {
            var kept: [TemplateValue] = []
            for item in items where try inScope({ () throws(TemplateError) in
                try budget.charge(1, at: filter.position)
                try bind(targets, to: item, at: iterable.position)
                return try evaluate(filter.node).isTruthy
            }) {
                kept.append(item)
            }
            items = kept
        }
        guard !items.isEmpty else { return try inScope { () throws(TemplateError) in try execute(otherwise) } }
        for (index, item) in items.enumerated() {
            try budget.charge(1, at: iterable.position)
            let flow = try inScope { () throws(TemplateError) in
                try bind(targets, to: item, at: iterable.position)
                assign("loop", .dictionary(OrderedStringDictionary([
                    ("index", .int(index + 1)), ("index0", .int(index)),
                    ("revindex", .int(items.count - index)), ("revindex0", .int(items.count - index - 1)),
                    ("first", .bool(index == 0)), ("last", .bool(index == items.count - 1)), ("length", .int(items.count)),
                    ("previtem", index > 0 ? items[index - 1] : .undefined("loop.previtem")),
                    ("nextitem", index + 1 < items.count ? items[index + 1] : .undefined("loop.nextitem")),
                    ("depth", .int(1)), ("depth0", .int(0)),
                    ("cycle", .function(TemplateFunction(name: "loop.cycle") { values, _, position, _ throws(TemplateError) in
                        guard !values.isEmpty else { throw .runtime("no items for cycling given", at: position) }
                        return values[index % values.count]
                    })),
                ])))
                return try execute(body)
            }
            if flow == .breakLoop { break }
        }
        return .normal
    }

    private func inScope<T>(_ work: () throws(TemplateError) -> T) throws(TemplateError) -> T {
        scopes.append([:])
        defer { scopes.removeLast() }
        return try work()
    }

    private func bind(_ targets: [String], to item: TemplateValue, at position: SourcePosition) throws(TemplateError) {
        guard targets.count > 1 else { return assign(targets[0], item) }
        let parts = try TemplateOperations.iterate(item, at: position)
        guard parts.count == targets.count else {
            throw .runtime("cannot unpack \(parts.count) values into \(targets.count) loop variables", at: position)
        }
        for (target, part) in zip(targets, parts) { assign(target, part) }
    }

    private func macro(name: String, parameters: [(String, TemplateExpression?)], body: [TemplateStatement]) -> TemplateFunction {
        TemplateFunction(name: name) { [unowned self] positional, keywords, position, _ throws(TemplateError) in
            guard positional.count <= parameters.count else {
                throw .runtime("macro '\(name)' takes \(parameters.count) arguments, got \(positional.count)", at: position)
            }
            depth += 1
            defer { depth -= 1 }
            var frame: [String: TemplateValue] = [:]
            for (index, (parameter, defaultValue)) in parameters.enumerated() {
                if index < positional.count {
                    frame[parameter] = positional[index]
                } else if let value = keywords[parameter] {
                    frame[parameter] = value
                } else if let defaultValue {
                    frame[parameter] = try evaluate(defaultValue)
                } else {
                    frame[parameter] = .undefined(parameter)
                }
            }
            let savedScopes = scopes
            scopes = [scopes[0], frame]
            defer { scopes = savedScopes }
            return .string(try capture(body))
        }
    }

    // MARK: Expressions

    func evaluate(_ expression: TemplateExpression) throws(TemplateError) -> TemplateValue {
        depth += 1
        defer { depth -= 1 }
        switch expression {
        case .literal(let value):
            return value
        case .variable(let name):
            return lookUp(name)
        case .list(let elements, let position), .tuple(let elements, let position):
            try budget.charge(1 + elements.count, at: position)
            var values: [TemplateValue] = []
            for element in elements { values.append(try evaluate(element)) }
            let value: TemplateValue = if case .tuple = expression { .tuple(values) } else { .list(values) }
            try value.checkNesting(at: position, budget: budget)
            return value
        case .dictionary(let entries, let position):
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
        case .attribute(let base, let name, let position):
            try budget.charge(1, at: position)
            return try TemplateOperations.attribute(try evaluate(base), name, at: position)
        case .subscript_(let base, let key, let position):
            try budget.charge(1, at: position)
            return try TemplateOperations.item(try evaluate(base), try evaluate(key), at: position, budget: budget)
        case .slice(let base, let start, let stop, let step, let position):
            try budget.charge(1, at: position)
            let value = try evaluate(base)
            let bounds = (try start.map(evaluate), try stop.map(evaluate), try step.map(evaluate))
            return try TemplateOperations.slice(value, start: bounds.0, stop: bounds.1, step: bounds.2, at: position, budget: budget)
        case .call(let callee, let arguments, let position):
            try budget.charge(1, at: position)
            try TemplateLimit.renderDepth.check(depth, at: position,
                "statements, expressions and macro calls run more than \(TemplateLimit.renderDepth.value) levels inside one another; "
                    + "a macro that calls itself without end?")
            let function = try evaluate(callee)
            guard case .function(let callable) = function else {
                throw .runtime("\(function.isUndefined ? "'\(callee.displayName)' is undefined" : "'\(function.typeName)' object is not callable")", at: position)
            }
            let (positional, keywords) = try evaluate(arguments)
            let result = try callable.call(positional, keywords, position, budget)
            try result.checkNesting(at: position, budget: budget)
            return result
        case .filter(let base, let name, let arguments, let position):
            try budget.charge(1, at: position)
            let (positional, keywords) = try evaluate(arguments)
            return try TemplateFilters.apply(name, to: try evaluate(base), positional, keywords, at: position, budget: budget)
        case .test(let base, let name, let arguments, let negated, let position):
            try budget.charge(1, at: position)
            let (positional, _) = try evaluate(arguments)
            let result = try TemplateTests.apply(name, to: try evaluate(base), positional, at: position, budget: budget)
            return .bool(result != negated)
        case .unary(let op, let operand, let position):
            try budget.charge(1, at: position)
            return try TemplateOperations.unary(op, try evaluate(operand), at: position)
        case .binary("and", let left, let right, let position):
            try budget.charge(1, at: position)
            let value = try evaluate(left)
            return value.isTruthy ? try evaluate(right) : value
        case .binary("or", let left, let right, let position):
            try budget.charge(1, at: position)
            let value = try evaluate(left)
            return value.isTruthy ? value : try evaluate(right)
        case .binary(let op, let left, let right, let position):
            try budget.charge(1, at: position)
            return try TemplateOperations.binary(op, try evaluate(left), try evaluate(right), at: position, budget: budget)
        case .conditional(let condition, let then, let otherwise):
            if try evaluate(condition).isTruthy { return try evaluate(then) }
            return try otherwise.map(evaluate) ?? .undefined("conditional expression")
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
