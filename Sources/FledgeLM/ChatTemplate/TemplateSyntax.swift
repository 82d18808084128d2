/// An expression of the template language, with where it starts in the source.
indirect enum Expression {
    case literal(TemplateValue)
    case variable(String)
    case list([Expression])
    case tuple([Expression])
    case dictionary([(Expression, Expression)], SourcePosition)
    case attribute(Expression, String, SourcePosition)
    case subscript_(Expression, Expression, SourcePosition)
    case slice(Expression, start: Expression?, stop: Expression?, step: Expression?, SourcePosition)
    case call(Expression, Arguments, SourcePosition)
    case filter(Expression, name: String, Arguments, SourcePosition)
    case test(Expression, name: String, Arguments, negated: Bool, SourcePosition)
    case unary(String, Expression, SourcePosition)
    case binary(String, Expression, Expression, SourcePosition)
    case conditional(condition: Expression, then: Expression, otherwise: Expression?)

    /// Positional and keyword arguments of a call, filter or test.
    struct Arguments {
        var positional: [Expression] = []
        var keywords: [(String, Expression)] = []
    }
}

/// A node with the source position it was parsed from.
struct Located<Node> {
    let node: Node
    let position: SourcePosition
}

/// A statement (tag or output) of the template language.
indirect enum Statement {
    case text(String)
    case output(Located<Expression>)
    case ifChain([(condition: Located<Expression>, body: [Statement])], otherwise: [Statement])
    case forLoop(targets: [String], iterable: Located<Expression>, filter: Located<Expression>?, body: [Statement], otherwise: [Statement])
    case set(target: AssignmentTarget, value: Located<Expression>)
    case setBlock(name: String, body: [Statement])
    case macro(name: String, parameters: [(String, Expression?)], body: [Statement])
    case loopControl(isBreak: Bool)
    /// transformers' `{% generation %}` block, which only marks assistant text.
    case generation([Statement])

    /// What `{% set %}` assigns to.
    enum AssignmentTarget {
        case names([String])
        case attribute(object: String, name: String, position: SourcePosition)
    }
}
