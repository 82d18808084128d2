/// An expression of the template language, with where it starts in the source.
indirect enum TemplateExpression {
    case literal(TemplateValue)
    case variable(String)
    case list([TemplateExpression], SourcePosition)
    case tuple([TemplateExpression], SourcePosition)
    case dictionary([(TemplateExpression, TemplateExpression)], SourcePosition)
    case attribute(TemplateExpression, String, SourcePosition)
    case subscript_(TemplateExpression, TemplateExpression, SourcePosition)
    case slice(TemplateExpression, start: TemplateExpression?, stop: TemplateExpression?, step: TemplateExpression?, SourcePosition)
    case call(TemplateExpression, Arguments, SourcePosition)
    case filter(TemplateExpression, name: String, Arguments, SourcePosition)
    case test(TemplateExpression, name: String, Arguments, negated: Bool, SourcePosition)
    case unary(String, TemplateExpression, SourcePosition)
    case binary(String, TemplateExpression, TemplateExpression, SourcePosition)
    case conditional(condition: TemplateExpression, then: TemplateExpression, otherwise: TemplateExpression?)

    /// Positional and keyword arguments of a call, filter or test.
    struct Arguments {
        var positional: [TemplateExpression] = []
        var keywords: [(String, TemplateExpression)] = []
    }
}

/// A node with the source position it was parsed from.
struct Located<Node> {
    let node: Node
    let position: SourcePosition
}

/// A statement (tag or output) of the template language.
indirect enum TemplateStatement {
    case text(String, SourcePosition)
    case output(Located<TemplateExpression>)
    case ifChain([(condition: Located<TemplateExpression>, body: [TemplateStatement])], otherwise: [TemplateStatement])
    /// `usesLoopVariable`: whether the body mentions Jinja's `loop`, which costs a dictionary per iteration.
    case forLoop(targets: [String], iterable: Located<TemplateExpression>, filter: Located<TemplateExpression>?, body: [TemplateStatement],
                 otherwise: [TemplateStatement], usesLoopVariable: Bool)
    case set(target: AssignmentTarget, value: Located<TemplateExpression>)
    case setBlock(name: String, body: [TemplateStatement])
    case macro(name: String, parameters: [(String, TemplateExpression?)], body: [TemplateStatement])
    case loopControl(isBreak: Bool)
    /// transformers' `{% generation %}` block, which only marks assistant text.
    case generation([TemplateStatement])

    /// What `{% set %}` assigns to.
    enum AssignmentTarget {
        case names([String])
        case attribute(object: String, name: String, position: SourcePosition)
    }
}

extension TemplateStatement {
    /// Whether the variable `name` occurs in the statement (or in those it holds).
    func mentions(_ name: String) -> Bool {
        switch self {
        case .text, .loopControl: false
        case .output(let expression): expression.node.mentions(name)
        case .ifChain(let branches, let otherwise):
            branches.contains { $0.condition.node.mentions(name) || $0.body.contains { $0.mentions(name) } } || otherwise.contains { $0.mentions(name) }
        case .forLoop(_, let iterable, let filter, let body, let otherwise, _):
            iterable.node.mentions(name) || filter?.node.mentions(name) == true || (body + otherwise).contains { $0.mentions(name) }
        case .set(.attribute(let object, _, _), let value): object == name || value.node.mentions(name)
        case .set(_, let value): value.node.mentions(name)
        case .setBlock(_, let body), .generation(let body): body.contains { $0.mentions(name) }
        case .macro(_, let parameters, let body):
            parameters.contains { $0.1?.mentions(name) == true } || body.contains { $0.mentions(name) }
        }
    }
}

extension TemplateExpression {
    /// Whether the variable `name` occurs in the expression.
    func mentions(_ name: String) -> Bool {
        switch self {
        case .literal: false
        case .variable(let variable): variable == name
        case .list(let elements, _), .tuple(let elements, _): elements.contains { $0.mentions(name) }
        case .dictionary(let entries, _): entries.contains { $0.0.mentions(name) || $0.1.mentions(name) }
        case .attribute(let base, _, _): base.mentions(name)
        case .subscript_(let base, let key, _): base.mentions(name) || key.mentions(name)
        case .slice(let base, let start, let stop, let step, _): [base, start, stop, step].contains { $0?.mentions(name) == true }
        case .call(let callee, let arguments, _): callee.mentions(name) || arguments.mentions(name)
        case .filter(let base, _, let arguments, _), .test(let base, _, let arguments, _, _): base.mentions(name) || arguments.mentions(name)
        case .unary(_, let operand, _): operand.mentions(name)
        case .binary(_, let left, let right, _): left.mentions(name) || right.mentions(name)
        case .conditional(let condition, let then, let otherwise): condition.mentions(name) || then.mentions(name) || otherwise?.mentions(name) == true
        }
    }
}

extension TemplateExpression.Arguments {
    /// Whether the variable `name` occurs in an argument.
    func mentions(_ name: String) -> Bool {
        positional.contains { $0.mentions(name) } || keywords.contains { $0.1.mentions(name) }
    }
}
