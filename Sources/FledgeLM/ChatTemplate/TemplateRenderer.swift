/// Runs parsed template statements with Jinja's semantics (in transformers' sandboxed
/// environment with the loop-controls extension): scopes, loops, macros and namespaces, within
/// ``TemplateLimit``: the renderer counts its recursion and its steps, and measures its output.
///
/// Statements and expressions run recursively, so the functions on that path are small (a debug
/// build gives every local of a function its own stack slot): each dispatches to a helper per case.
final class TemplateRenderer {
    private var scopes: [[String: TemplateValue]]
    private var output = ""
    /// How many `{% set %}` blocks are capturing output right now (their text is not the result's).
    private var captureDepth = 0
    /// How many statements, loop bodies, expressions and macro calls are running inside one another
    /// (checked against ``TemplateLimit/renderDepth`` where macros are called).
    var depth = 0
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

    /// Runs one statement. Blocks run their bodies recursively, so like `evaluate(_:)` this only
    /// dispatches, and each helper takes apart its own kind of statement.
    private func execute(_ statement: TemplateStatement) throws(TemplateError) -> Flow {
        depth += 1
        defer { depth -= 1 }
        switch statement {
        case .text, .output: try write(statement)
        case .ifChain: return try choose(statement)
        case .forLoop: return try loop(statement)
        case .set: try set(statement)
        case .setBlock, .macro: try define(statement)
        case .loopControl(let isBreak): return isBreak ? .breakLoop : .continueLoop
        case .generation: return try generation(statement)
        }
        return .normal
    }

    /// The template's text, or `{{ expression }}`.
    private func write(_ statement: TemplateStatement) throws(TemplateError) {
        switch statement {
        case .text(let text, let position): try write(text, at: position)
        case .output(let expression):
            let value = try evaluate(expression.node)
            try budget.charge(1, at: expression.position)
            try write(try TemplatePrinter.printed(value, budget: budget, at: expression.position), at: expression.position)
        default: preconditionFailure("execute(_:) dispatches only text and output here")
        }
    }

    /// Appends `text`, which the template's text or expression at `position` gives, to the output,
    /// within ``TemplateLimit/textLength``.
    private func write(_ text: String, at position: SourcePosition) throws(TemplateError) {
        try TemplateLimit.textLength.check(output.utf8.count + text.utf8.count, at: position,
            "the rendered text would be longer; render fewer or shorter messages")
        try budget.charge(bytes: text.utf8.count, at: position)
        output += text
    }

    /// `{% if %}`, `{% elif %}` and `{% else %}`: runs the body of the first branch whose condition holds.
    private func choose(_ statement: TemplateStatement) throws(TemplateError) -> Flow {
        guard case .ifChain(let branches, let otherwise) = statement else { preconditionFailure("execute(_:) dispatches only if chains here") }
        return try execute(try chosenBody(branches) ?? otherwise)
    }

    private func chosenBody(_ branches: [(condition: Located<TemplateExpression>, body: [TemplateStatement])]) throws(TemplateError) -> [TemplateStatement]? {
        for branch in branches {
            try budget.charge(1, at: branch.condition.position)
            if try evaluate(branch.condition.node).isTruthy { return branch.body }
        }
        return nil
    }

    /// `{% set target = value %}`.
    private func set(_ statement: TemplateStatement) throws(TemplateError) {
        guard case .set(let target, let value) = statement else { preconditionFailure("execute(_:) dispatches only assignments here") }
        try budget.charge(1, at: value.position)
        try assign(try evaluate(value.node), to: target, at: value.position)
    }

    private func assign(_ result: TemplateValue, to target: TemplateStatement.AssignmentTarget, at position: SourcePosition) throws(TemplateError) {
        switch target {
        case .names(let names) where names.count == 1:
            assign(names[0], result)
        case .names(let names):
            let elements = try TemplateOperations.iterate(result, at: position, budget: budget)
            guard elements.count == names.count else {
                throw .runtime("cannot unpack \(elements.count) values into \(names.count) names", at: position)
            }
            for (name, element) in zip(names, elements) { assign(name, element) }
        case .attribute(let object, let name, let position):
            guard case .namespace(let namespace) = lookUp(object) else {
                throw .runtime("cannot assign attribute on non-namespace object '\(object)'", at: position)
            }
            try result.checkNesting(intoNamespace: true, at: position, budget: budget)
            namespace.attributes[name] = result
        }
    }

    /// `{% set name %}...{% endset %}` and `{% macro %}`.
    private func define(_ statement: TemplateStatement) throws(TemplateError) {
        switch statement {
        case .setBlock(let name, let body): assign(name, .string(try capture(body)))
        case .macro(let name, let parameters, let body): assign(name, .function(macro(name: name, parameters: parameters, body: body)))
        default: preconditionFailure("execute(_:) dispatches only set blocks and macros here")
        }
    }

    /// `{% generation %}`: runs its body, marking the text it renders.
    private func generation(_ statement: TemplateStatement) throws(TemplateError) -> Flow {
        guard case .generation(let body) = statement else { preconditionFailure("execute(_:) dispatches only generation blocks here") }
        let start = output.utf8.count
        let flow = try execute(body)
        if captureDepth == 0 { generationSpans.append(start..<output.utf8.count) }
        return flow
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

    // MARK: Loops

    /// Each iteration runs in a scope of its own: `{% set %}` in a loop body does not carry over to
    /// the next iteration or out of the loop (namespaces exist for that). The body is one level
    /// deeper than the loop.
    private func loop(_ statement: TemplateStatement) throws(TemplateError) -> Flow {
        guard case .forLoop(let targets, let iterable, let filter, let body, let otherwise, let usesLoopVariable) = statement else {
            preconditionFailure("execute(_:) dispatches only for loops here")
        }
        var items = try TemplateOperations.iterate(try evaluate(iterable.node), at: iterable.position, budget: budget)
        depth += 1
        scopes.append([:])
        defer {
            scopes.removeLast()
            depth -= 1
        }
        if let filter { items = try kept(items, targets: targets, filter: filter, at: iterable.position) }
        guard !items.isEmpty else { return try execute(otherwise) }
        for index in items.indices {
            try budget.charge(1, at: iterable.position)
            // Emptied rather than replaced: a new scope would allocate its storage again for every iteration.
            scopes[scopes.count - 1].removeAll(keepingCapacity: true)
            try bind(targets, to: items[index], at: iterable.position)
            if usesLoopVariable { assign("loop", Self.loopVariable(index: index, of: items)) }
            if try execute(body) == .breakLoop { break }
        }
        return .normal
    }

    /// The items for which `{% for targets in items if filter %}` holds, each tried in the loop's scope.
    private func kept(_ items: [TemplateValue], targets: [String], filter: Located<TemplateExpression>,
                      at position: SourcePosition) throws(TemplateError) -> [TemplateValue] {
        var kept: [TemplateValue] = []
        for item in items {
            try budget.charge(1, at: filter.position)
            scopes[scopes.count - 1].removeAll(keepingCapacity: true)
            try bind(targets, to: item, at: position)
            if try evaluate(filter.node).isTruthy { kept.append(item) }
        }
        return kept
    }

    /// Jinja's `loop` in a loop's body at `items[index]`.
    private static func loopVariable(index: Int, of items: [TemplateValue]) -> TemplateValue {
        .dictionary(OrderedStringDictionary([
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
        ]))
    }

    private func bind(_ targets: [String], to item: TemplateValue, at position: SourcePosition) throws(TemplateError) {
        guard targets.count > 1 else { return assign(targets[0], item) }
        let parts = try TemplateOperations.iterate(item, at: position, budget: budget)
        guard parts.count == targets.count else {
            throw .runtime("cannot unpack \(parts.count) values into \(targets.count) loop variables", at: position)
        }
        for (target, part) in zip(targets, parts) { assign(target, part) }
    }

    // MARK: Macros

    private func macro(name: String, parameters: [(String, TemplateExpression?)], body: [TemplateStatement]) -> TemplateFunction {
        TemplateFunction(name: name) { [unowned self] positional, keywords, position, _ throws(TemplateError) in
            try call(name, parameters: parameters, body: body, positional, keywords, at: position)
        }
    }

    /// Runs the macro `name` in a scope of its own (the globals, then its arguments), as one more level.
    private func call(_ name: String, parameters: [(String, TemplateExpression?)], body: [TemplateStatement],
                      _ positional: [TemplateValue], _ keywords: OrderedStringDictionary<TemplateValue>,
                      at position: SourcePosition) throws(TemplateError) -> TemplateValue {
        depth += 1
        defer { depth -= 1 }
        let frame = try arguments(of: name, parameters: parameters, positional, keywords, at: position)
        let savedScopes = scopes
        scopes = [scopes[0], frame]
        defer { scopes = savedScopes }
        return .string(try capture(body))
    }

    /// The macro's parameters bound to the arguments of a call, defaults and undefined values.
    private func arguments(of name: String, parameters: [(String, TemplateExpression?)], _ positional: [TemplateValue],
                           _ keywords: OrderedStringDictionary<TemplateValue>, at position: SourcePosition) throws(TemplateError) -> [String: TemplateValue] {
        guard positional.count <= parameters.count else {
            throw .runtime("macro '\(name)' takes \(parameters.count) arguments, got \(positional.count)", at: position)
        }
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
        return frame
    }
}
